"""Study storage URLs, read with SQLAlchemy's own parser (make_url) rather than by hand.

search.storage is a journal file path (no scheme), an RDB URL (postgresql+psycopg2://...,
mysql://..., sqlite:///...), or grpc://HOST:PORT (Optuna's gRPC storage proxy in front of a
database, see dnn-storage-proxy).
"""
RDB_BACKENDS = ("postgresql", "mysql", "sqlite")
GRPC = "grpc"


def parse(url):
    """The SQLAlchemy URL object of url, or None when url is not a database URL."""
    if not url or "://" not in str(url):
        return None
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(str(url))
    except (ArgumentError, ValueError):
        return None


def backend(url):
    """'postgresql', 'mysql', 'sqlite', ... (the driver dropped), or None for a file path."""
    parsed = parse(url)
    return parsed.get_backend_name() if parsed is not None else None


def is_rdb(url):
    return backend(url) in RDB_BACKENDS


def is_shared(url):
    """A storage reached over the network (a database or the gRPC proxy), not a local file."""
    return backend(url) in (*RDB_BACKENDS, GRPC)


def grpc_address(url):
    """(host, port) of a grpc://HOST:PORT URL; ValueError naming what is missing."""
    parsed = parse(url)
    if parsed is None or parsed.get_backend_name() != GRPC:
        raise ValueError("not a grpc://HOST:PORT URL")
    if not parsed.host or not parsed.port:
        raise ValueError("needs a host and a port: grpc://HOST:PORT")
    if not 1 <= parsed.port <= 65535:
        raise ValueError("port out of range 1-65535")
    if parsed.database or parsed.query or parsed.username:
        raise ValueError("has more than a host and a port: grpc://HOST:PORT")
    return parsed.host, parsed.port


def sqlite_path(url):
    """The database file of a sqlite URL (None for other URLs and in-memory databases)."""
    parsed = parse(url)
    if parsed is None or parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    return database if database and database != ":memory:" else None


def location(url):
    """Where a database URL points, for a note: HOST:PORT/NAME (a SQLite file's path); never
    its user, password or query, so nothing in it needs masking."""
    parsed = parse(url)
    if parsed is None:
        return "?"
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    host = f"{parsed.host or 'localhost'}{f':{parsed.port}' if parsed.port else ''}"
    return f"{host}/{parsed.database}" if parsed.database else host


def query(url):
    """The URL's query parameters (connect arguments such as connect_timeout)."""
    parsed = parse(url)
    return dict(parsed.query) if parsed is not None else {}


def engine_kwargs(url):
    """pool_pre_ping replaces connections that died while idle (a database restart); for
    PostgreSQL, a connect timeout and TCP keepalives so that an unreachable server or a
    silently dropped connection raises (and is retried) instead of hanging. A database
    server keeps one idle connection per process (pool_size=1): a second thread (a
    heartbeat) borrows one more while it needs it, so a worker holds one connection at rest
    and two in flight (SQLAlchemy's default keeps up to five)."""
    kwargs = {"pool_pre_ping": True}
    if backend(url) in ("postgresql", "mysql"):
        kwargs.update(pool_size=1, max_overflow=10)
    if backend(url) == "postgresql":
        given = query(url)
        connect_args = {"connect_timeout": 10, "keepalives": 1, "keepalives_idle": 30,
                        "keepalives_interval": 10, "keepalives_count": 3}
        kwargs["connect_args"] = {k: v for k, v in connect_args.items() if k not in given}
    return kwargs
