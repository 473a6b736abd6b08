"""PostgreSQL test helpers: the server named by DNNSWEEP_TEST_POSTGRES_URL, throwaway
databases, a real MLflow tracking server backed by PostgreSQL. The shared server is never
stopped or restarted by a test (a test that does so to its database starts a private server
of its own, tests/pg_cluster.py), so the PostgreSQL tests run on any xdist worker."""
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from helpers import command

ENV = "DNNSWEEP_TEST_POSTGRES_URL"


def server_url():
    """The URL of $DNNSWEEP_TEST_POSTGRES_URL, or skip the test (unset or unreachable)."""
    url = os.environ.get(ENV)
    if not url:
        pytest.skip(f"{ENV} is not set (e.g. postgresql+psycopg2://postgres@127.0.0.1:5432/"
                    "postgres): PostgreSQL tests skipped")
    try:
        import psycopg2  # noqa: F401
        import sqlalchemy
    except ImportError as e:
        pytest.skip(f"PostgreSQL tests need psycopg2 and SQLAlchemy: {e}")
    try:
        conn = _connect(url)
        conn.close()
    except Exception as e:  # noqa: BLE001 - any reason the server cannot be used
        pytest.skip(f"PostgreSQL at {ENV} is unreachable: {str(e).splitlines()[0]}")
    return url


def _connect(url, dbname=None, timeout=10):
    import psycopg2
    import sqlalchemy

    u = sqlalchemy.engine.make_url(url)
    conn = psycopg2.connect(host=u.host or "127.0.0.1", port=u.port or 5432,
                            user=u.username, password=u.password,
                            dbname=dbname or u.database or "postgres", connect_timeout=timeout)
    conn.autocommit = True
    return conn


def with_database(url, name):
    import sqlalchemy

    return sqlalchemy.engine.make_url(url).set(database=name).render_as_string(
        hide_password=False)


@contextlib.contextmanager
def fresh_database(url, label="db"):
    """A new empty database dnnsweep_test_<label>_<random>; yields its URL, dropped after."""
    name = f"dnnsweep_test_{label}_{uuid.uuid4().hex[:10]}"
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
    try:
        yield with_database(url, name)
    finally:
        drop_database(url, name)


def drop_database(url, name, attempts=30):
    """DROP ... WITH (FORCE) (PostgreSQL >= 13 ends lingering sessions); bounded retries
    while the server may still be coming back from an outage test."""
    for _ in range(attempts):
        try:
            conn = _connect(url)
            try:
                with conn.cursor() as cur:
                    cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                return
            finally:
                conn.close()
        except Exception:  # noqa: BLE001 - server restarting: try again shortly
            time.sleep(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def mlflow_server(backend_url, workdir, timeout=180):
    """`mlflow server` on a free port with its backend store in PostgreSQL (URI passed in
    MLFLOW_BACKEND_STORE_URI, not on the command line) and artifacts served by the server,
    without MLflow's job runner; yields its http URI. Stopped (its whole process group) afterwards."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    # Without MLflow's job runner (on by default: some ten huey consumer processes, about
    # 10 s of CPU to start each time), as dnn-ui starts it: dnnsweep submits no MLflow job,
    # and the tracking API under test is served the same.
    env = {**os.environ, "MLFLOW_BACKEND_STORE_URI": backend_url,
           "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    env.pop("MLFLOW_TRACKING_URI", None)
    log = open(workdir / "mlflow-server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--artifacts-destination", str(workdir / "artifacts")],
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"mlflow server exited {proc.returncode}:\n"
                                     + (workdir / "mlflow-server.log").read_text()[-3000:])
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > end:
                raise AssertionError(f"mlflow server not up after {timeout} s:\n"
                                     + (workdir / "mlflow-server.log").read_text()[-3000:])
            time.sleep(0.5)
        yield uri
    finally:
        stop_group(proc)
        log.close()


def stop_group(proc, timeout=5):
    """SIGTERM the process group started with proc (start_new_session), then SIGKILL."""
    if proc.poll() is None or _group_alive(proc.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        end = time.monotonic() + timeout
        while time.monotonic() < end and (proc.poll() is None or _group_alive(proc.pid)):
            time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def _group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def wait_until_up(url, timeout=120):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            _connect(url, timeout=3).close()
            return True
        except Exception:  # noqa: BLE001 - not yet
            time.sleep(0.5)
    return False


# -- dnn-storage-proxy ------------------------------------------------------------------------

@contextlib.contextmanager
def storage_proxy(db_url, port, *extra):
    """dnn-storage-proxy on 127.0.0.1:port, once it accepts connections."""
    proc = subprocess.Popen([command("dnn-storage-proxy"), db_url, "--port", str(port), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        end = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < end:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()
        yield proc
    finally:
        stop_group(proc)


def study_trials(db_url, name):
    """The trials of study name in the database at db_url, read directly (not through a proxy)."""
    import optuna

    storage = optuna.storages.RDBStorage(db_url)
    try:
        return optuna.load_study(study_name=name, storage=storage).get_trials()
    finally:
        storage.engine.dispose()
