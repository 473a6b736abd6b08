"""The local SQLite MLflow store (sqlite:///...): made whole once, even when another
MLflow client (a notebook, dnn-ui, mlflow ui, a second sweep) makes the same new store at
the same moment. Creating a store runs MLflow's schema migrations, which are not safe
against a second run of them at once."""
import contextlib
import os
import shutil
import sqlite3
import time
from pathlib import Path

from search.adapters.mlflow import schema_head
from search.config import ConfigError
from search.secrets import mask
from search.storage.locks import file_lock
from search.storage.retry import Retry, error_chain
from search.storage.urls import sqlite_path


SQLITE_HEADER = b"SQLite format 3\0"


def check_local_store(uri):
    """ConfigError, at once, when the SQLite store of uri cannot be one: its path is a
    folder, or an existing file that is not a SQLite database (MLflow would wait on it for
    minutes, or write into it). A missing file is fine: it is created."""
    path = sqlite_path(uri)
    if not path:
        return
    allowed = "allowed: sqlite:///path/to/mlflow.db (a new file, or MLflow's SQLite store)"
    if os.path.isdir(path):
        raise ConfigError(f"tracking.uri {mask(uri)!r}: {path} is a folder; {allowed}")
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as e:
        raise ConfigError(f"tracking.uri {mask(uri)!r}: cannot read {path} ({e.strerror}); "
                          f"{allowed}") from None
    if head and head != SQLITE_HEADER:
        raise ConfigError(f"tracking.uri {mask(uri)!r}: {path} is not a SQLite database; "
                          f"it was left as it is; {allowed}")


def open_local_store(client_class, uri):
    """client_class(tracking_uri=uri) on a local SQLite store, made first if new (its
    folder too). Two processes of ours take turns (a file lock): the second finds the
    schema made. MLflow caches the store per process, so this is paid once."""

    check_local_store(uri)
    path = sqlite_path(uri)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path + ".lock"):
        _create_store(client_class, path)
        return _made(client_class, uri)


def _create_store(client_class, path):
    """Make a new SQLite store whole, then put it in place. MLflow's migrations are not
    safe against another client (a notebook, dnn-ui, mlflow ui) creating the same new
    store at once: they are run on a file of our own, linked to path only if path is still
    free (else the other client's store is used)."""
    if os.path.exists(path):
        return
    new = f"{path}.new-{os.getpid()}"
    try:
        template = _migrated_template(client_class)
        if template:
            shutil.copyfile(template, new)
        client_class(tracking_uri=f"sqlite:///{os.path.abspath(new)}")
        os.link(new, path)
    except FileExistsError:
        pass
    finally:
        if os.path.exists(new):
            os.unlink(new)


def _migrated_template(client_class):
    """A store with MLflow's schema made and no experiment, kept once per schema revision in
    the user's cache (None when it cannot be kept). Running MLflow's migrations on a new
    store costs ~4.5 s of CPU, a copy ~0.1 s: every new store (the first sweep in a folder,
    each test's store) is a copy. MLflow adds its Default experiment, with its artifact
    location for this folder, when it opens the copy."""
    head = schema_head()
    if head is None:
        return None
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dnnsweep"
    template = cache / f"mlflow-store-{head}.db"
    if _schema_version(template) == head:
        return template
    scratch = cache / f"{template.name}.new-{os.getpid()}"
    try:
        cache.mkdir(parents=True, exist_ok=True)
        client_class(tracking_uri=f"sqlite:///{scratch}")
        with contextlib.closing(sqlite3.connect(scratch)) as db, db:
            db.execute("DELETE FROM experiments")  # the Default one, located in this folder
        os.replace(scratch, template)
    except (OSError, sqlite3.Error):
        return None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(scratch)
    return template if _schema_version(template) == head else None


def _schema_version(path):
    """The alembic version row of the SQLite store at path (None: none yet)."""
    try:
        with contextlib.closing(sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro",
                                                uri=True, timeout=5)) as db:
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def _wait_for_migrations(path, budget=60.0, fresh=10.0):
    """Wait while another MLflow client is creating the store at path: its schema is not
    at the head of MLflow's migrations and the file was written within `fresh` seconds.
    Opening it meanwhile would run MLflow's migrations a second time, at once with the
    other client's, and they fail ('table ... already exists', 'duplicate column', an
    AttributeError inside a migration). An older store left alone is not waited for."""
    deadline, head = time.monotonic() + budget, None
    while time.monotonic() < deadline:
        try:
            if time.time() - os.path.getmtime(path) > fresh:
                return
        except OSError:
            return
        head = head or schema_head()
        if head is None or _schema_version(path) == head:  # None: cannot tell
            return
        time.sleep(0.2)


def _made(client_class, uri):
    """client_class(uri), its store's tables made. Another MLflow client (a notebook,
    dnn-ui, mlflow ui) creating the same new SQLite store at once: wait until it is done
    (above); should MLflow's migrations here fail all the same ('table ... already
    exists', alembic finding no version row), wait and try again."""

    _wait_for_migrations(sqlite_path(uri))

    def half_made(exc):
        return any(m in str(e) for e in error_chain(exc)
                   for m in ("already exists", "Online migration expected to match one row",
                             "no such table"))

    return Retry(budget=60, first_delay=0.2, transient=half_made, quiet=True)(
        client_class, tracking_uri=uri)
