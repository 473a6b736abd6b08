"""How the library's notes reach the user. Library code never prints: it logs to the
"dnnsweep" logger (a storage unreachable and back, a repaired journal, ...); the console
scripts and their worker processes show each note as one `dnnsweep: ...` line on stderr."""
import logging
import sys

LOGGER = "dnnsweep"


def logger(name=None):
    """The project's logger (or one of its children: dnnsweep.<name>)."""
    return logging.getLogger(f"{LOGGER}.{name}" if name else LOGGER)


class _Stderr(logging.StreamHandler):
    """A handler writing to whatever sys.stderr is when a note is written."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def show_notes():
    """Write the notes of this process as `dnnsweep: <note>` lines on stderr (once)."""
    log = logging.getLogger(LOGGER)
    if any(getattr(h, "dnnsweep_console", False) for h in log.handlers):
        return
    handler = _Stderr()
    handler.setFormatter(logging.Formatter("dnnsweep: %(message)s"))
    handler.dnnsweep_console = True
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
