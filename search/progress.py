"""A live progress line on a terminal (one line per update when not a terminal, sparsely)."""
import sys
import time


class Progress:
    """Rewrites one status line at most every `interval` seconds."""

    def __init__(self, total, label="", stream=None, interval=0.5):
        self.total, self.label = total, label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        # Off a terminal (CI logs, pipes), print rarely so logs stay readable.
        self.interval = interval if self.tty else 10.0
        self.start = self._last = time.monotonic()

    def update(self, done, text, force=False):
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        rate = done / max(now - self.start, 1e-9)
        line = f"{self.label}{done}/{self.total} {text} ({rate:,.0f}/s)"
        if self.tty:
            self.stream.write("\r\033[K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self):
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
