"""Where studies live, and how a study notices dead workers.

Local default: Optuna's journal file (mlruns/optuna.journal). It costs ~10 ms per trial
against ~55 ms for SQLite and is safe for several processes, but has no heartbeat: here
every trial records its owner (host:pid) and a live worker fails the trials of dead
owners on this host. RDB URLs (PostgreSQL for several machines) use Optuna's heartbeat,
recorded by a thread of ours that survives database errors, plus the same owner check,
and every database call waits out an outage (RetryingRDBStorage, search.retry).
"""
import contextlib
import fcntl
import os
import socket
import threading
import time
from pathlib import Path

from search.config import ConfigError
from search.storage.rdb import lost_table_race, engine_kwargs, retrying_storage_class
from search.storage.retry import DEFAULT_BUDGET, Retry, is_server_restarting, is_transient
from search.secrets import mask

LOCAL_JOURNAL = "mlruns/optuna.journal"
RDB_SCHEMES = ("postgresql", "mysql", "sqlite")


def owner_id():
    return f"{socket.gethostname()}:{os.getpid()}"


def is_rdb(url):
    return bool(url) and url.split(":", 1)[0].split("+", 1)[0] in RDB_SCHEMES


def journal_path(url):
    return Path(url or LOCAL_JOURNAL)


def make_storage(url, heartbeat_interval, grace_period, retry_budget=None):
    """An Optuna storage for search.storage (None: the local journal file).

    RDB URLs get RetryingRDBStorage: every database call rides out an outage of up to
    retry_budget seconds (default 60, or $DNNSWEEP_DB_RETRY_SECONDS) instead of failing."""
    import optuna
    import sqlalchemy.exc

    if is_rdb(url):
        import warnings

        # Our Heartbeat thread beats for ask/tell trials: Optuna's note on every ask is noise.
        warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used",
                                category=UserWarning)
        budget = DEFAULT_BUDGET if retry_budget is None else retry_budget
        # Opening waits only for a server that said it is restarting: an unreachable host
        # or port is reported at once (a mistyped URL should not hang the command).
        # Two machines opening a new database at once race to create Optuna's tables:
        # serialized by an advisory lock, and the loser of a race tries again.
        opening = Retry(budget, transient=lambda e: is_server_restarting(e) or lost_table_race(e))
        lock = _pg_advisory_lock(url, INIT_LOCK_KEY, 0) if url.startswith("postgresql") \
            else contextlib.nullcontext()
        try:
            with lock:
                return opening(retrying_storage_class(), url,
                               engine_kwargs=engine_kwargs(url),
                               heartbeat_interval=heartbeat_interval,
                               grace_period=grace_period, retry=Retry(budget))
        except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError,
                ImportError, ValueError) as e:
            cause = e.__cause__ if isinstance(e, optuna.exceptions.StorageInternalError) \
                and e.__cause__ else e
            reason = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
            raise ConfigError(f"cannot open study storage {mask(url)}: {mask(reason)}") from None
    if url and "://" in url:
        raise ConfigError(f"search.storage {mask(url)!r}: allowed are null (local journal file), "
                          "a journal file path, or an RDB URL (postgresql+psycopg2://...)")
    path = journal_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    return JournalStorage(JournalFileBackend(str(path)))


@contextlib.contextmanager
def ask_lock(url):
    """Serializes 'count the trials, then ask for one' among all workers of a study so that
    it never overshoots n_trials: a file lock for local files (journal, SQLite), a
    PostgreSQL advisory lock (per database) for workers on several machines."""
    scheme = (url or "").split(":", 1)[0].split("+", 1)[0]
    if scheme == "postgresql":
        with _pg_advisory_lock(url):
            yield
        return
    if scheme == "sqlite":
        path = url.partition(":///")[2].partition("?")[0]
        lock_path = Path(path + ".asklock") if path and path != ":memory:" else None
    elif is_rdb(url):
        lock_path = None  # MySQL: no shared lock; a race may add one trial past n_trials
        # (and two launchers starting a new study together may each make a parent run)
    else:
        lock_path = journal_path(url).with_suffix(".asklock")
    if lock_path is None:
        yield
        return
    with file_lock(lock_path):
        yield


@contextlib.contextmanager
def file_lock(path):
    """An exclusive lock on the file at path (created if missing), for processes of one host."""
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


ASK_LOCK_KEY = 0x646E6E7377656570  # "dnnsweep": the advisory lock of 'count, then ask'
INIT_LOCK_KEY = ASK_LOCK_KEY + 1   # the advisory lock of creating the study tables
ASK_LOCK_WAIT = 120.0              # seconds before going on without it (a hung holder)


@contextlib.contextmanager
def _pg_advisory_lock(url, key=ASK_LOCK_KEY, connect_budget=30.0):
    """pg_try_advisory_lock polled on a connection of its own. The server releases it
    when that connection ends (a killed worker, a restart): it never outlives its holder.
    When the database is away the worker goes on without it; the storage then waits."""
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    engine = sqlalchemy.create_engine(url, poolclass=NullPool,
                                      connect_args=engine_kwargs(url).get("connect_args", {}))
    conn = None
    try:
        try:
            conn = Retry(quiet=True, budget=connect_budget)(engine.connect)
            end = time.monotonic() + ASK_LOCK_WAIT
            query = sqlalchemy.text("SELECT pg_try_advisory_lock(:k)")
            while not conn.execute(query, {"k": key}).scalar():
                if time.monotonic() > end:
                    break
                time.sleep(0.1)
        except Exception as e:  # noqa: BLE001 - a database outage: go on unlocked
            if not is_transient(e):
                raise
        yield
    finally:
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            with contextlib.suppress(Exception):
                conn.close()
        engine.dispose()


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def dead_local_owner(owner):
    """True when owner (host:pid) names a process of this host that no longer runs."""
    host, _, pid = (owner or "").rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and int(pid) != os.getpid() \
        and not pid_alive(int(pid))


class Heartbeat:
    """Records a running trial's heartbeat every interval seconds (RDB storages).

    Optuna's own heartbeat thread dies at its first database error; this one keeps
    trying (every second while the database is away, so that the first beat after an
    outage comes right after it), so a database restart does not make a live trial look
    dead.
    """

    RETRY_SECONDS = 1.0

    def __init__(self, storage, trial_id, interval):
        self.storage, self.trial_id, self.interval = storage, trial_id, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="heartbeat")

    def _run(self):
        while True:
            wait = self.interval
            try:
                self.storage.record_heartbeat(self.trial_id)
            except Exception:  # noqa: BLE001 - a database outage: beat again soon
                wait = min(self.interval, self.RETRY_SECONDS)
            if self._stop.wait(wait):
                return

    def __enter__(self):
        if hasattr(self.storage, "record_heartbeat") and self.interval:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
