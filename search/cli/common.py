"""What the console scripts share: Hydra app wrapping, exit codes, one-line errors.

A Hydra app's command line is composed and checked in-process (search.config.compose)
before Hydra runs it: a bad override, option, key, type or range exits 2 in one line
naming it, before anything is created. An exception escaping the task afterwards is a
failure: one line naming it, exit 1. HYDRA_FULL_ERROR=1 shows the traceback of either.
Whatever Hydra prints of a config (--cfg, --help) and every traceback is masked first.
"""
import contextlib
import functools
import io
import os
import re
import sys
import traceback

from search.adapters.hydra import parse_args
from search.config import ConfigError, conf_dir
from search.config.compose import compose_checked
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


def full_error():
    return os.environ.get("HYDRA_FULL_ERROR") == "1"


def print_traceback():
    """The traceback being handled, on stderr, credentials masked."""
    print(mask(traceback.format_exc()), file=sys.stderr, end="")


class _MaskedStream:
    """A text stream that masks credentials in what is written to it (each write whole)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        self._stream.write(mask(text))
        return len(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


@contextlib.contextmanager
def masked_streams():
    """sys.stdout and sys.stderr masked while the block runs."""
    with contextlib.redirect_stdout(_MaskedStream(sys.stdout)), \
            contextlib.redirect_stderr(_MaskedStream(sys.stderr)):
        yield


def _first_line(e):
    text = str(e).strip()
    return f"{type(e).__name__}: {text.splitlines()[0]}" if text else type(e).__name__


def hydra_task(fn):
    """Marks a Hydra task function: an exception escaping it is a failure, reported in one
    line with exit 1 (with HYDRA_FULL_ERROR=1, Hydra's traceback instead)."""
    @functools.wraps(fn)
    def task(cfg):
        try:
            return fn(cfg)
        except Exception as e:  # noqa: BLE001 - the last line of defence of a command
            if full_error():
                raise
            fail(_first_line(e)[:1000], EXIT_FAILED)
    return task


def precheck(config_name, argv, check=None):
    """Compose and check the command line's config before Hydra runs the app."""

    args = parse_args(argv)
    if args.help or args.hydra_help or args.shell_completion or args.info:
        return
    try:
        compose_checked(config_name, args.overrides, check)
    except ConfigError as e:
        if full_error():
            print_traceback()
            raise SystemExit(EXIT_BAD_INPUT) from None
        fail(str(e))


def show_help(hydra_main):
    """Hydra's help without the schema bases (base_*) the YAML options extend."""
    text = io.StringIO()
    try:
        with contextlib.redirect_stdout(text):
            hydra_main()
    finally:
        print(mask(re.sub(r"\bbase_\w+(, )?", "", text.getvalue())), end="")


def run_hydra_app(task, config_name, prog, check=None):
    """Run task as the Hydra app prog on conf/<config_name>.yaml, after the command line's
    config passed check (a callable raising ConfigError) in-process."""
    import hydra


    sys.argv[0] = prog
    show_notes()
    precheck(config_name, sys.argv[1:], check)
    hydra_main = hydra.main(config_path=conf_dir(), config_name=config_name,
                            version_base="1.3")(task)
    if {"--help", "-h"} & set(sys.argv[1:]):
        return show_help(hydra_main)
    try:
        with masked_streams():  # Hydra's own printing: --cfg, a failed job's overrides
            hydra_main()
    except SystemExit:
        raise
    except Exception:  # noqa: BLE001 - HYDRA_FULL_ERROR=1: Hydra re-raises the task's error
        print_traceback()
        raise SystemExit(EXIT_FAILED) from None
