"""Where a library offers no public API for what dnnsweep needs, its one use lives here: a
module per library, each with a test (tests/search/adapters/) that fails by name when the
library moves or renames what the module reaches for."""
