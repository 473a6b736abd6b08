"""A live progress line (tqdm) with a readable rate and an ETA; off a terminal, one plain
line now and then so that logs stay readable."""
import sys
import time

from tqdm import tqdm

OFF_TERMINAL_INTERVAL = 10.0  # seconds between lines in logs and pipes


def rate_text(rate, unit, per_minute):
    """'3,177 it/s'; or for slow things '4.2 trials/min', '36 trials/h' (3 significant
    digits at most, never a rounded-down 0/s)."""
    if not per_minute:
        return f"{rate:,.0f} {unit}/s" if rate >= 10 else f"{rate:.2g} {unit}/s"
    per_min = rate * 60
    if per_min >= 1 or per_min == 0:
        return f"{per_min:.3g} {unit}/min"
    return f"{per_min * 60:.3g} {unit}/h"


def _size():
    """The terminal's (columns, rows); (100, 24) when it reports none (a pseudo-terminal
    of size 0, where tqdm would draw nothing)."""
    import shutil

    size = shutil.get_terminal_size((100, 24))
    return size.columns if size.columns > 0 else 100, size.lines if size.lines > 0 else 24


class Progress:
    """update(done, text) shows `label done/total | ETA, rate | text`, at most every
    `interval` seconds (force: now): what matters first, since a terminal narrower than
    the line cuts its end. The rate counts what was done since this line began (a resumed
    study's earlier trials do not inflate it)."""

    def __init__(self, total, label="", stream=None, interval=0.5, unit="it",
                 per_minute=False):
        self.total, self.label, self.unit, self.per_minute = total, label, unit, per_minute
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.interval = interval if self.tty else OFF_TERMINAL_INTERVAL
        self.start = self._last = time.monotonic()
        self.first = None
        self.bar = tqdm(total=total, file=self.stream, bar_format="{desc}", desc=label,
                        mininterval=interval, ncols=_size()[0],
                        nrows=_size()[1]) if self.tty else None

    def line(self, done, text):
        """The whole line: count, ETA and rate, then the caller's text."""
        elapsed = time.monotonic() - self.start
        rate = (done - self.first) / elapsed if elapsed > 0 else 0.0
        parts = [rate_text(rate, self.unit, self.per_minute)]
        if self.total and rate > 0 and done < self.total:
            parts.insert(0, f"ETA {tqdm.format_interval((self.total - done) / rate)}")
        return f"{self.label}{done}/{self.total} | {', '.join(parts)}" + \
            (f" | {text}" if text else "")

    def update(self, done, text, force=False):
        now = time.monotonic()
        opening = self.first is None
        if opening:
            self.first = done
        # On a terminal the line shows at once; in a log, only every OFF_TERMINAL_INTERVAL.
        if not force and now - self._last < self.interval and not (opening and self.tty):
            return
        self._last = now
        line = self.line(done, text)
        if self.bar is not None:
            self.bar.n = done
            self.bar.set_description_str(line)  # tqdm redraws the line in place
        else:
            self.stream.write(line + "\n")
            self.stream.flush()

    def close(self):
        if self.bar is not None:
            self.bar.close()
