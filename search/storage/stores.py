"""Opening a study's storage: the local journal file, or a database (RDB) URL.

Local default: Optuna's journal file (search.storage.journal). RDB URLs (PostgreSQL for
several machines) get RetryingRDBStorage (search.storage.rdb): every database call waits
out an outage, and Optuna's heartbeat marks live trials (search.storage.owners.Heartbeat).
grpc://HOST:PORT is Optuna's gRPC storage proxy (started by dnn-storage-proxy in front of
a database): its workers hold no database connection.
"""
import warnings

from search.config import ConfigError
from search.secrets import mask
from search.storage import urls
from search.storage.journal import check_is_journal, journal_path, open_journal
from search.storage.retry import DEFAULT_BUDGET

is_rdb = urls.is_rdb


def refused_by_server(url):
    """The reason the database server gave for refusing url (no such database, role or
    password; a SQLite file that cannot be opened), tried once: None when it connects, or
    when it does not answer (an outage, which the retrying storage waits out)."""
    refused, _ = probe_database(url)
    return refused


def probe_database(url):
    """One connection attempt: (refused, silent), each None or the reason. refused: the
    server answered no; silent: nothing answered (connection refused, timeout, no route)."""
    import sqlalchemy

    connect_args = urls.engine_kwargs(url).get("connect_args", {})
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool,
                                      connect_args=connect_args)
    try:
        with engine.connect():
            return None, None
    except sqlalchemy.exc.OperationalError as e:
        text = str(e.orig).strip()
        code = e.orig.args[0] if e.orig is not None and e.orig.args else None
        server_said = ("FATAL:" in text or urls.backend(url) == "sqlite"
                       or (isinstance(code, int) and code < 2000))  # MySQL's server errors
        if server_said:
            return text.partition("FATAL:")[2].strip() or text, None
        return None, " ".join(text.split())
    finally:
        engine.dispose()


def check_storage(url):
    """What can be checked of search.storage before anything is opened: a local journal's
    path names a new file or a journal (nothing is read past its first bytes)."""
    if not is_rdb(url) and urls.backend(url) != urls.GRPC:
        check_is_journal(journal_path(url))


def make_storage(url, heartbeat_interval, grace_period, retry_budget=None, on_stale_trial=None):
    """An Optuna storage for search.storage (None: the local journal file).

    RDB URLs get RetryingRDBStorage: every database call rides out an outage of up to
    retry_budget seconds (default 60, or $DNNSWEEP_DB_RETRY_SECONDS) instead of failing.
    on_stale_trial(study, trial): called for each trial failed for a stale heartbeat."""
    if urls.backend(url) == urls.GRPC:
        return open_proxy(url)
    if is_rdb(url):
        import optuna
        import sqlalchemy.exc

        budget = DEFAULT_BUDGET if retry_budget is None else retry_budget
        refused = refused_by_server(url)
        if refused:  # no outage to wait out: the server answered no
            raise ConfigError(f"cannot open study storage {mask(url)}: {mask(refused)}")
        try:
            # Lazy: the RDB storage (SQLAlchemy and Optuna's RDB models) adds 218 ms of imports
            # to a journal study that never uses it (measured after optuna is loaded).
            from search.storage.rdb import open_rdb

            return open_rdb(url, heartbeat_interval, grace_period, budget, on_stale_trial)
        except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError,
                ImportError, ValueError) as e:
            cause = e.__cause__ if isinstance(e, optuna.exceptions.StorageInternalError) \
                and e.__cause__ else e
            reason = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
            raise ConfigError(f"cannot open study storage {mask(url)}: {mask(reason)}") from None
    if url and "://" in url:
        raise ConfigError(f"search.storage {mask(url)!r}: allowed are null (local journal file), "
                          "a journal file path, an RDB URL (postgresql+psycopg2://...), or "
                          "grpc://HOST:PORT (dnn-storage-proxy)")
    return open_journal(url)


PROXY_WAIT = 10.0  # seconds for a storage proxy to answer before the command gives up


def open_proxy(url):
    """optuna.storages.GrpcStorageProxy on grpc://HOST:PORT, once the proxy answers."""
    try:
        host, port = urls.grpc_address(url)
    except ValueError as e:
        raise ConfigError(f"search.storage={mask(url)!r}: {e}") from None
    try:
        import grpc  # noqa: F401 - Optuna's proxy client needs it (the grpc extra)
        import optuna
    except ImportError:
        raise ConfigError(f"search.storage={mask(url)!r}: the gRPC storage proxy needs "
                          "grpcio: pip install 'dnnsweep[grpc]'") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = optuna.storages.GrpcStorageProxy(host=host, port=port)
    try:
        storage.wait_server_ready(timeout=PROXY_WAIT)
    except ConnectionError:
        storage.close()
        raise ConfigError(f"search.storage={mask(url)!r}: no storage proxy answered at "
                          f"{host}:{port} within {PROXY_WAIT:.0f} s (start one with "
                          "dnn-storage-proxy DATABASE_URL)") from None
    return storage
