"""The one error type of a config that cannot be run."""


class ConfigError(ValueError):
    """A composed config that cannot be run; the message names the key, the bad value and
    what is allowed."""
