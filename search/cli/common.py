"""What the console scripts share: Hydra app wrapping, exit codes, one-line errors."""
import os
import re
import sys
import traceback

from search.console import show_notes
from search.secrets import mask

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


class Exit(SystemExit):
    """Our own exit from inside a Hydra task (Hydra lets SystemExit through)."""


def fail(message, code=EXIT_BAD_INPUT):
    """Print one clear line (credentials masked) and exit with code."""
    print(f"error: {mask(message)}", file=sys.stderr)
    raise Exit(code)


class _HeldStderr:
    """stderr while Hydra composes the config: its error reports are held back (to be
    reduced to one line); once the task runs, everything passes straight through."""

    def __init__(self, stream, hold=True):
        self.stream, self.held, self.hold = stream, [], hold
        self.task_running = self.task_started = False

    def write(self, text):
        if self.task_running or not self.hold:
            return self.stream.write(text)
        self.held.append(text)
        return len(text)

    def flush(self):
        self.stream.flush()

    def __getattr__(self, name):
        return getattr(self.stream, name)

    def release(self):
        text, self.held = "".join(self.held), []
        return text


_held = None


def hydra_task(fn):
    """Marks a Hydra task function: errors Hydra reports before it starts are bad input
    (exit 2), after it started a failure (exit 1)."""
    import functools

    @functools.wraps(fn)
    def task(cfg):
        if _held is not None:
            _held.task_running = _held.task_started = True
        try:
            return fn(cfg)
        finally:
            if _held is not None:
                _held.task_running = False
    return task


def one_line(report):
    """Hydra's multi-line error report as one line: the message and the allowed options,
    without the search path and the HYDRA_FULL_ERROR hint."""
    if "Traceback (most recent call last)" in report:  # an exception escaped the task
        # The exception's first line: the first unindented line after the last traceback
        # (a message may go on for lines, and Hydra's hint follows it).
        tail = report.rpartition("Traceback (most recent call last)")[2].splitlines()[1:]
        heads = [line.strip() for line in tail if line.strip() and not line[0].isspace()]
        return heads[0][:1000] if heads else "unexpected error"
    parts = []
    for raw in report.splitlines():
        line = raw.strip()
        if line.startswith("Config search path"):
            break
        if not line or line.startswith(("Set the environment variable HYDRA_FULL_ERROR",
                                        "See https://hydra.cc", "full_key:", "object_type=")):
            continue
        if raw[:1].isspace() and parts:
            parts[-1] += (" " if parts[-1].endswith(":") else ", ") + line
        else:
            parts.append(line)
    message = "; ".join(p.rstrip(".") for p in parts) or "invalid command line"
    # Hydra's parse errors quote the bad fragment only: name the override it is in.
    args = [a for a in sys.argv[1:] if "=" in a]
    if not any(a.split("=", 1)[0].lstrip("+~") in message for a in args):
        quoted = [q for q in re.findall(r"'([^']+)'", message)]
        culprits = [a for a in args if any(q in a for q in quoted)]
        if culprits:
            message += f" (in override {culprits[0]!r})"
    return message


def run_hydra_app(task, config_name, prog):
    """Run task as the Hydra app prog on conf/<config_name>.yaml. Hydra's own config errors
    exit 2, like ours, in one line (HYDRA_FULL_ERROR=1: Hydra's full report and trace)."""
    import hydra

    from search.config import conf_dir

    global _held
    show_notes()
    hydra_main = hydra.main(config_path=conf_dir(), config_name=config_name,
                            version_base="1.3")(task)
    sys.argv[0] = prog
    os.environ.setdefault("HYDRA_FULL_ERROR", "0")
    full = os.environ["HYDRA_FULL_ERROR"] == "1"
    real_stderr = sys.stderr
    _held = _HeldStderr(real_stderr, hold=not full)
    sys.stderr = _held
    try:
        hydra_main()
    except Exit:
        raise
    except SystemExit as e:
        # Hydra reports composition errors (bad override, unknown group option) and
        # exceptions escaping the task with exit 1.
        if e.code == 1:
            sys.stderr = real_stderr
            fail(one_line(_held.release()), EXIT_FAILED if _held.task_started else EXIT_BAD_INPUT)
        raise
    except Exception:  # noqa: BLE001 - HYDRA_FULL_ERROR=1: Hydra re-raises; keep our codes
        sys.stderr = real_stderr
        traceback.print_exc()
        raise SystemExit(EXIT_FAILED if _held.task_started else EXIT_BAD_INPUT) from None
    finally:
        sys.stderr = real_stderr
        leftover = _held.release()  # warnings written while composing, say
        if leftover:
            real_stderr.write(leftover)
            real_stderr.flush()

