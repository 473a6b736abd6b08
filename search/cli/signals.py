"""Ctrl-C (SIGINT) or SIGTERM (`kill`, `timeout`, a batch scheduler) to dnn-train: the run
stops at its next iteration, is closed KILLED, one line says so, and the exit status is
128 + the signal's number (130 / 143)."""
import signal
import sys

from search.cli.common import Exit
from search.run.train import StopRun

received = []  # the signals asked to stop this process's run


class Stopped(StopRun):
    status = "KILLED"


def _on_signal(signum, frame):
    received.append(signum)


def stop_on_signals():
    """Record SIGINT/SIGTERM instead of dying wherever they land (an MLflow write in
    flight would be cut): the run stops at its next iteration."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _on_signal)


def stop_at_signal(i, cost, metrics):
    """The per-iteration hook: stop the run once a signal came."""
    if received:
        raise Stopped(f"interrupted by {signal.Signals(received[0]).name}")
    return False


def exit_stopped(run_id=None, finished=False):
    """One line, and 128 + the signal's number as the exit status."""
    name = signal.Signals(received[0]).name
    if finished:
        line = f"dnn-train: {name} came after the run finished"
    elif run_id:
        line = f"dnn-train: stopped by {name}; MLflow run {run_id} closed KILLED"
    else:
        line = f"dnn-train: stopped by {name}; no run was started"
    print(line, file=sys.stderr, flush=True)
    raise Exit(128 + received[0])
