"""The progress line: count, ETA and rate first, the caller's text after them, so that a
terminal narrower than the line cuts the text, never the ETA."""
import io

from search.progress import Progress

TEXT = ("best val_cost 0.36018 (#11) | complete 9  pruned 1  failed 0  running 2  "
        "retried 1  warm-start 5")


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_off_a_terminal_the_line_reads_count_eta_rate_then_the_text():
    out = io.StringIO()
    bar = Progress(12, "trials ", stream=out, unit="trials", per_minute=True)
    bar.update(0, TEXT, force=True)
    bar.start -= 60  # a minute ago: 3 trials a minute
    bar.update(3, TEXT, force=True)
    last = out.getvalue().splitlines()[-1]
    assert last == f"trials 3/12 | ETA 03:00, 3 trials/min | {TEXT}"


def test_a_narrow_terminal_keeps_the_eta_and_cuts_the_text(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    screen = Terminal()
    bar = Progress(12, "trials ", stream=screen, unit="trials", per_minute=True)
    bar.update(0, TEXT, force=True)
    bar.start -= 60
    bar.update(3, TEXT, force=True)
    bar.close()
    shown = screen.getvalue().split("\r")
    assert any(s.startswith("trials 3/12 | ETA 03:00, 3 trials/min | best") and len(s) <= 60
               for s in shown), shown
