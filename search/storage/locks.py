"""Locks shared by the processes of a study: a file lock on one host, a PostgreSQL
transaction-scoped advisory lock across machines."""
import contextlib
import fcntl
import os
import random
import threading
import time
from pathlib import Path

from search.storage import urls
from search.storage.journal import journal_path
from search.storage.retry import Retry, is_transient

ASK_LOCK_KEY = 0x646E6E7377656570  # "dnnsweep": the advisory lock of 'count, then ask'
INIT_LOCK_KEY = ASK_LOCK_KEY + 1   # the advisory lock of creating the study tables
ASK_LOCK_WAIT = 120.0              # seconds before going on without it (a hung holder)


@contextlib.contextmanager
def file_lock(path):
    """An exclusive lock on the file at path (created if missing), for processes of one host."""
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def ask_lock(url):
    """Serializes 'count the trials, then ask for one' among all workers of a study so that
    it never overshoots n_trials: a file lock for local files (journal, SQLite), a
    PostgreSQL advisory lock (per database) for workers on several machines."""
    backend = urls.backend(url)
    if backend == "postgresql":
        with pg_advisory_lock(url):
            yield
        return
    if backend == "sqlite":
        path = urls.sqlite_path(url)
        lock_path = Path(path + ".asklock") if path else None
    elif backend is not None:
        lock_path = None  # MySQL, and the gRPC proxy (no database connection): no shared
        # lock; workers counting at once may start up to workers - 1 trials past n_trials
        # (and two launchers starting a new study together may each make a parent run)
    else:
        lock_path = journal_path(url).with_suffix(".asklock")
    if lock_path is None:
        yield
        return
    with file_lock(lock_path):
        yield


_ENGINES = {}  # (pid, url) -> the engine of this process's advisory locks on url
_ENGINES_GUARD = threading.Lock()


def lock_engine(url):
    """The one engine of this process for advisory locks on url's database. NullPool: it
    holds no connection between locks (a worker at rest keeps only its storage's), and a
    forked child shares no socket with its parent."""
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    key = (os.getpid(), str(url))
    with _ENGINES_GUARD:
        engine = _ENGINES.get(key)
        if engine is None:
            connect_args = urls.engine_kwargs(url).get("connect_args", {})
            engine = sqlalchemy.create_engine(url, poolclass=NullPool, connect_args=connect_args)
            _ENGINES[key] = engine
        return engine


@contextlib.contextmanager
def pg_advisory_lock(url, key=ASK_LOCK_KEY, connect_budget=30.0):
    """pg_try_advisory_xact_lock polled on a connection of its own, each try a transaction
    of its own; the winning try's transaction is left open for the critical section, then
    rolled back. Transaction-scoped, it works through PgBouncer in transaction-pooling mode:
    only the holder keeps a server connection (a waiter blocked in pg_advisory_xact_lock
    would keep one each and starve the pool). The server drops the lock with its holder
    (a killed worker, a restart); a holder that keeps it past ASK_LOCK_WAIT (hung) is gone
    past; when the database is away the worker goes on without it, the storage then waits."""
    import sqlalchemy

    conn = None
    try:
        try:
            conn = Retry(quiet=True, budget=connect_budget)(lock_engine(url).connect)
            end = time.monotonic() + ASK_LOCK_WAIT
            query = sqlalchemy.text("SELECT pg_try_advisory_xact_lock(:k)")
            while not conn.execute(query, {"k": key}).scalar() and time.monotonic() < end:
                conn.rollback()  # wait outside a transaction: no server connection held
                time.sleep(random.uniform(0.02, 0.08))
        except Exception as e:  # noqa: BLE001 - a database outage: go on unlocked
            if not is_transient(e):
                raise
        yield
    finally:
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.rollback()  # ends the transaction: the lock goes with it
            with contextlib.suppress(Exception):
                conn.close()
