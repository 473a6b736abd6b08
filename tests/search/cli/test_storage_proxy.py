"""dnn-storage-proxy: Optuna's gRPC storage proxy in front of PostgreSQL, as a real process;
a study used through search.storage=grpc://HOST:PORT; SIGTERM and Ctrl-C stop it cleanly.
Real PostgreSQL (DNNSWEEP_TEST_POSTGRES_URL; skipped when unset), real gRPC, real Optuna."""
import signal
import subprocess
import time

import pytest
from helpers import command
from pg_helpers import free_port, fresh_database, server_url, storage_proxy, study_trials

from search.config import ConfigError
from search.storage import stores

SECRET = "s3cret-pw"  # the test server trusts local connections: any password is let in


def with_password(url):
    import sqlalchemy

    return sqlalchemy.engine.make_url(url).set(password=SECRET).render_as_string(
        hide_password=False)


def database_sessions(server, db_url):
    import sqlalchemy
    from pg_helpers import _connect

    conn = _connect(server)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                        (sqlalchemy.engine.make_url(db_url).database,))
            return cur.fetchone()[0]
    finally:
        conn.close()


@pytest.mark.postgres
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_study_through_the_proxy_lands_in_the_database_and_the_proxy_stops_cleanly(signum):
    import optuna

    server = server_url()
    port = free_port()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with fresh_database(server, "proxy") as db, \
            storage_proxy(with_password(db), port) as proc:
        storage = stores.make_storage(f"grpc://127.0.0.1:{port}", None, None)
        assert isinstance(storage, optuna.storages.GrpcStorageProxy)
        study = optuna.create_study(storage=storage, study_name="via-proxy")
        for _ in range(3):
            trial = study.ask()
            study.tell(trial, trial.suggest_float("x", 0, 1))
        storage.close()
        trials = study_trials(db, "via-proxy")
        assert [t.state.name for t in trials] == ["COMPLETE"] * 3
        assert database_sessions(server, db) >= 1  # the proxy's own
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, (out, err)
        assert "Traceback" not in err, err
        assert f"grpc://127.0.0.1:{port}" in out and "stopped" in out, out
        assert SECRET not in out + err, "the database password was printed"
        end = time.monotonic() + 10
        while database_sessions(server, db) and time.monotonic() < end:
            time.sleep(0.2)
        assert database_sessions(server, db) == 0, "the proxy left connections behind"


@pytest.mark.parametrize("args, bad", [
    (["mlruns/optuna.journal"], "STORAGE_URL"),
    (["postgresql+psycopg2://u@127.0.0.1/db", "--port", "0"], "--port 0"),
    (["postgresql+psycopg2://u@127.0.0.1/db", "--threads", "0"], "--threads 0"),
])
def test_bad_input_to_the_proxy_is_one_line_and_exit_2(args, bad, tmp_path):
    r = subprocess.run([command("dnn-storage-proxy"), *args], capture_output=True, text=True,
                       cwd=tmp_path, timeout=120)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and bad in lines[0], r.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_proxy_that_does_not_answer_is_refused_in_one_line(monkeypatch):
    monkeypatch.setattr(stores, "PROXY_WAIT", 1.0)
    url = f"grpc://127.0.0.1:{free_port()}"
    with pytest.raises(ConfigError, match=r"search.storage='grpc://127.0.0.1:\d+': no storage "
                                          "proxy answered"):
        stores.make_storage(url, None, None)
