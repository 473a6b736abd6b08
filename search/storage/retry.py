"""Riding out a database outage: bounded retries with exponential backoff (tenacity).

A PostgreSQL restart, a failover or a dropped connection surfaces as an OperationalError,
an InterfaceError or a DBAPIError flagged as a disconnect (Optuna wraps them in
StorageInternalError; in Optuna 5.0.0 a restart during study.optimize even hides behind
`UnboundLocalError: ... 'updated_state'`). Those are transient: the caller waits and tries
again, up to a budget (60 s by default), then the original error is raised. Errors that
no waiting cures (bad password, unknown database or host, invalid data) are raised at once.

A write that is not idempotent takes a `landed` check: after a failed attempt the write may
have been committed anyway (the connection died after COMMIT reached the server), so before
each retry `landed()` looks for it and returns (True, result) when it is there.

Work already done (a trial that finished training) is not thrown away at the end of the
budget: a thread records it inside `Retry.patiently(stop)`, where its calls wait out an
outage of any length (until stop() holds), saying once where they wait.
"""
import contextlib
import os
import threading
import time

import tenacity

from search.console import logger
from search.secrets import mask

DEFAULT_BUDGET = float(os.environ.get("DNNSWEEP_DB_RETRY_SECONDS", "60"))
FIRST_DELAY = 0.5
MAX_DELAY = 4.0

# OperationalError messages that no amount of waiting fixes.
PERMANENT = ("password authentication failed", "no pg_hba.conf entry", "does not exist",
             "could not translate host name", "name or service not known",
             "permission denied", "authentication failed", "invalid dsn",
             "invalid connection option", "value too long", "unknown database")


class AnswerLost(Exception):
    """A write's connection failed during the attempt: it may have been committed or not
    (its answer is lost). Raised instead of the database's error where a library would
    otherwise retry the write blindly; the caller looks for it before trying again."""


def error_chain(exc, limit=20):
    """exc, then the errors it was raised from or while handling (bounded)."""
    seen = set()
    while exc is not None and id(exc) not in seen and len(seen) < limit:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def is_transient(exc):
    """True when exc (or an error it was raised from) is a lost or refused database
    connection that a later attempt may not meet."""
    try:
        import sqlalchemy.exc as sa_exc
    except ImportError:  # pragma: no cover - RDB storages need SQLAlchemy
        return False
    for e in error_chain(exc):
        text = str(e).lower()
        if isinstance(e, AnswerLost):
            return True
        if isinstance(e, UnboundLocalError) and "updated_state" in text:
            return True
        if any(p in text for p in PERMANENT):
            return False
        if isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(e, (sa_exc.OperationalError, sa_exc.InterfaceError,
                          sa_exc.DisconnectionError, sa_exc.TimeoutError,
                          sa_exc.PendingRollbackError)):
            return True
        name = type(e).__name__
        module = type(e).__module__ or ""
        if module.startswith("psycopg2") and name in ("OperationalError", "InterfaceError"):
            return True
    return False


def describe(exc):
    """One line naming the database error behind exc (not Optuna's wrapper of it)."""
    root = exc
    for e in error_chain(exc):
        root = e
        if not isinstance(e, UnboundLocalError) and type(e).__module__.split(".")[0] in (
                "psycopg2", "psycopg", "pymysql", "MySQLdb", "sqlite3"):
            break
    text = str(root).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(root).__name__}: {_mask(first)[:200]}" if first else type(root).__name__


def outage_reason(error):
    """What a run or trial that a storage call gave up on records: the database's own error
    (not Optuna's wrapper of every database error, which reads "invalid data in the commit,
    e.g. exceeding max length"); None when error is not an outage."""
    if not is_transient(error):
        return None
    return f"the study storage was unreachable past its retry budget ({describe(error)})"


SERVER_BUSY = ("the database system is starting up", "the database system is shutting down",
               "the database system is in recovery mode", "server closed the connection")


def is_server_restarting(exc):
    """Narrower than is_transient: the server answered that it is going down or coming up.
    Opening a storage retries only this, so a wrong host or port fails at once."""
    return is_transient(exc) and any(m in str(e).lower() for e in error_chain(exc)
                                     for m in SERVER_BUSY)


class Retry:
    """Calls a function again while it fails transiently (tenacity), sleeping a random 0-0.5,
    0-1, 0-2, 0-4, 0-4, ... s (full jitter, so workers do not hammer a recovering server in
    step) for as long as the next attempt would start within `budget` seconds of the first.

    A write that is not idempotent passes landed(): before each retry it looks for what a
    failed attempt may have committed and returns (True, result) when it is there."""

    def __init__(self, budget=DEFAULT_BUDGET, first_delay=FIRST_DELAY, max_delay=MAX_DELAY,
                 on_failure=None, label="study storage", quiet=False, transient=None,
                 where="the database"):
        self.budget, self.first_delay, self.max_delay = budget, first_delay, max_delay
        self.transient = transient or is_transient
        self.on_failure, self.label, self.quiet = on_failure, label, quiet
        self.where = where  # what the notes name: "the database at HOST:PORT/NAME"
        self.last_failure = None  # time.time() of the last transient failure seen
        self._waiting_since = None
        self._gave_up = False  # said once an outage, not at every call that gives up
        self._patient = threading.local()

    @contextlib.contextmanager
    def patiently(self, stop, what):
        """Within the block, this thread's calls wait out an outage of any length, until
        stop() holds, instead of giving up after the budget (other threads keep the
        budget); what: the work they record, named in the one note of the wait."""
        self._patient.stop, self._patient.what = stop, what
        try:
            yield
        finally:
            self._patient.stop = None

    def _note(self, text):
        """A note for the user (the console scripts show it on stderr), unless quiet."""
        if not self.quiet:
            logger("storage").warning(text)

    def __call__(self, fn, *args, landed=None, **kwargs):
        stop = getattr(self._patient, "stop", None)
        for attempt in tenacity.Retrying(
                retry=tenacity.retry_if_exception(self.transient),
                wait=tenacity.wait_random_exponential(multiplier=self.first_delay,
                                                    max=self.max_delay),
                stop=tenacity.stop_before_delay(self.budget) if stop is None
                else lambda state: stop(), after=self._failed,
                before_sleep=self._waiting, retry_error_callback=self._give_up):
            with attempt:
                again = attempt.retry_state.attempt_number > 1
                if again and landed is not None:
                    done, result = landed()
                    if done:
                        return self._recovered(result)
                result = fn(*args, **kwargs)
                return self._recovered(result) if again else result

    def _failed(self, state):
        self.last_failure = time.time()
        if self.on_failure:
            self.on_failure(state.outcome.exception())

    def _waiting(self, state):
        if self._waiting_since is None:
            self._note(f"{self.label} unreachable ({describe(state.outcome.exception())}); "
                       f"retrying for up to {self.budget:.0f} s")
            self._waiting_since = time.monotonic()
        what = getattr(self._patient, "what", None)
        if getattr(self._patient, "stop", None) is not None and what \
                and state.seconds_since_start >= self.budget:
            self._note(f"waiting for {self.where} to record {what}: unreachable for more than "
                       f"{self.budget:.0f} s ({describe(state.outcome.exception())}); the result "
                       "is kept and recorded once the database answers (Ctrl-C stops)")
            self._patient.what = None  # said once

    def _give_up(self, state):
        if not self._gave_up:
            self._note(f"{self.label} still unreachable after "
                       f"{state.seconds_since_start:.0f} s; giving up")
            self._gave_up = True
        return state.outcome.result()  # raises the last error

    def _recovered(self, result):
        self.last_failure = time.time()
        self._gave_up = False
        if self._waiting_since is not None:
            self._note(f"{self.label} reachable again after "
                       f"{time.monotonic() - self._waiting_since:.1f} s")
            self._waiting_since = None
        return result


def _mask(text):

    return mask(text)
