"""The ask lock ('count, then ask') on PostgreSQL: a transaction-scoped advisory lock that
excludes other processes, holds a connection only while held, works through PgBouncer in
transaction-pooling mode, and lets a worker go on when the database is away or a holder
hangs. Real PostgreSQL (DNNSWEEP_TEST_POSTGRES_URL; skipped when unset), real PgBouncer
(skipped when not installed), real processes."""
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from helpers import run_cli
from pg_checks import Sessions, check_runs, check_study
from pg_helpers import _connect, fresh_database, free_port, server_url, stop_group

from search.storage import locks

pytestmark = pytest.mark.postgres

KEY = locks.ASK_LOCK_KEY
ADVISORY = ("SELECT a.state, a.xact_start IS NOT NULL FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
            "AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = %s) "
            "AND (l.classid::bigint << 32) | l.objid::bigint = %s")


def dbname(url):
    import sqlalchemy

    return sqlalchemy.engine.make_url(url).database


def sessions(server, db):
    conn = _connect(server)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (db,))
            return cur.fetchone()[0]
    finally:
        conn.close()


def holders(server, db):
    conn = _connect(server)
    try:
        with conn.cursor() as cur:
            cur.execute(ADVISORY, (db, KEY))
            return cur.fetchall()
    finally:
        conn.close()


def try_lock(server, db):
    conn = _connect(server, dbname=db)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_xact_lock(%s)", (KEY,))
            return cur.fetchone()[0]
    finally:
        conn.close()


def test_the_ask_lock_is_held_in_an_open_transaction_and_excludes_others():
    server = server_url()
    with fresh_database(server, "lock") as url:
        db = dbname(url)
        assert sessions(server, db) == 0
        with locks.ask_lock(url):
            # one connection, inside a transaction (what PgBouncer's transaction mode keeps
            # on one server connection); a session-level lock shows as 'idle'
            assert holders(server, db) == [("idle in transaction", True)]
            assert sessions(server, db) == 1
            assert not try_lock(server, db)
        assert holders(server, db) == []
        assert sessions(server, db) == 0, "a connection was kept between locks"
        assert try_lock(server, db)
        for _ in range(3):  # the process's one lock engine, used again
            with locks.ask_lock(url):
                assert len(holders(server, db)) == 1
        assert locks.lock_engine(url) is locks.lock_engine(url)


def test_a_hung_holder_is_waited_for_at_most_the_lock_wait(monkeypatch):
    server = server_url()
    with fresh_database(server, "hung") as url:
        hung = _connect(server, dbname=dbname(url))
        hung.autocommit = False
        try:
            with hung.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (KEY,))
            monkeypatch.setattr(locks, "ASK_LOCK_WAIT", 0.5)
            entered = []
            with locks.ask_lock(url):
                entered.append(True)
            assert entered
        finally:
            hung.rollback()
            hung.close()


def test_a_database_away_is_gone_on_without_the_lock():
    url = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/postgres"
    entered = []
    with locks.pg_advisory_lock(url, connect_budget=0):
        entered.append(True)
    assert entered


# -- through PgBouncer in transaction-pooling mode ---------------------------------------------

COUNTER = textwrap.dedent("""
    import sys, time, sqlalchemy
    from sqlalchemy.pool import NullPool
    from search.storage.locks import ask_lock
    url, n = sys.argv[1], int(sys.argv[2])
    engine = sqlalchemy.create_engine(url, poolclass=NullPool)
    for _ in range(n):
        with ask_lock(url):  # read, then write: lost updates unless the lock excludes
            with engine.begin() as c:
                v = c.execute(sqlalchemy.text("SELECT n FROM counter")).scalar()
            time.sleep(0.002)
            with engine.begin() as c:
                c.execute(sqlalchemy.text("UPDATE counter SET n = :v"), {"v": v + 1})
""")


def pgbouncer(tmp_path, server, db, pool=2):
    """PgBouncer in transaction-pooling mode in front of db, with `pool` server connections.
    tmp_path must be readable by PgBouncer's user (it refuses to run as root)."""
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not os.path.exists(binary):
        pytest.skip("pgbouncer is not installed")
    import sqlalchemy

    u = sqlalchemy.engine.make_url(server)
    port = free_port()
    (tmp_path / "users.txt").write_text(f'"{u.username}" ""\n')
    ini = tmp_path / "pgbouncer.ini"
    ini.write_text(textwrap.dedent(f"""
        [databases]
        {db} = host={u.host or '127.0.0.1'} port={u.port or 5432} dbname={db}
        [pgbouncer]
        listen_addr = 127.0.0.1
        listen_port = {port}
        auth_type = trust
        auth_file = {tmp_path / 'users.txt'}
        pool_mode = transaction
        default_pool_size = {pool}
        max_client_conn = 100
        unix_socket_dir =
        """))
    user = ["-u", "postgres"] if os.geteuid() == 0 else []
    log = tmp_path / "pgbouncer.log"
    with open(log, "w") as f:
        proc = subprocess.Popen([binary, *user, str(ini)], start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=f)
    url = u.set(host="127.0.0.1", port=port, database=db).render_as_string(hide_password=False)
    for _ in range(100):
        try:
            _connect(url).close()
            return proc, url
        except Exception:  # noqa: BLE001 - not listening yet
            time.sleep(0.1)
    stop_group(proc)
    pytest.skip(f"pgbouncer did not start: {log.read_text()[-300:]}")


@pytest.mark.slow
def test_the_ask_lock_excludes_through_pgbouncer_in_transaction_mode(tmp_path):
    server = server_url()
    workers, rounds = 4, 25
    with fresh_database(server, "bouncer") as url:
        conn = _connect(url)
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE counter (n int); INSERT INTO counter VALUES (0)")
        conn.close()
        shared = Path(tempfile.mkdtemp(prefix="dnnsweep-pgbouncer-"))
        shared.chmod(0o755)
        proc, bounced = pgbouncer(shared, server, dbname(url))
        procs = []
        try:
            script = tmp_path / "counter.py"
            script.write_text(COUNTER)
            procs = [subprocess.Popen([sys.executable, str(script), bounced, str(rounds)],
                                      stderr=subprocess.PIPE) for _ in range(workers)]
            # a session-level lock through the pool hangs here (a lock left on a server
            # connection that the client's unlock never reaches), or loses updates
            errors = [p.communicate(timeout=150)[1].decode() for p in procs]
            assert all(p.returncode == 0 for p in procs), errors
        finally:
            for p in procs:
                p.kill()
                p.wait()
            stop_group(proc)
            shutil.rmtree(shared, ignore_errors=True)
        conn = _connect(url)
        with conn.cursor() as cur:
            cur.execute("SELECT n FROM counter")
            assert cur.fetchone()[0] == workers * rounds
        conn.close()


@pytest.mark.slow
def test_a_whole_sweep_of_four_workers_runs_through_pgbouncer_on_five_server_connections(
        tmp_path):
    """The study's storage URL names PgBouncer (transaction pooling, 5 server connections):
    4 workers run it to exactly its total, no trial duplicated or left RUNNING, one closed
    run per trial with its whole curve, and the database never sees more than the pool.
    Five: a process opening the study holds 3 connections at once (the opening lock, and
    Optuna's 2), the ask lock's holder 2; with fewer, they can wait on each other until
    PgBouncer's query_wait_timeout (docs/distributed.md)."""
    import optuna

    server, n_trials, iters, pool = server_url(), 12, 40, 5
    with fresh_database(server, "bounced_study") as url:
        shared = Path(tempfile.mkdtemp(prefix="dnnsweep-pgbouncer-"))
        shared.chmod(0o755)
        proc, bounced = pgbouncer(shared, server, dbname(url), pool)
        try:
            with Sessions(server, url) as sessions:
                out = run_cli("dnn-sweep", f"search.storage={bounced}", "search.workers=4",
                              f"search.n_trials={n_trials}", f"train.num_iterations={iters}",
                              "train.patience=null", "~search.space.train.batch_size",
                              "tracking.history_points=null", "tracking.log_model=false",
                              "search.study_name=bounced", cwd=tmp_path,
                              env={"MLFLOW_TRACKING_URI": ""}, check=0, timeout=150)
        finally:
            stop_group(proc)
            shutil.rmtree(shared, ignore_errors=True)
        storage = optuna.storages.RDBStorage(url)
        try:
            trials = optuna.load_study(study_name="bounced", storage=storage).get_trials()
        finally:
            storage.engine.dispose()
    assert "Traceback" not in out.stderr, out.stderr[-3000:]  # no worker gave up
    assert len(check_study(trials, n_trials)) == n_trials == len(trials), out.stdout
    check_runs(f"sqlite:///{tmp_path}/mlruns/mlflow.db", "bounced", trials, iters)
    assert len({t.user_attrs["owner"] for t in trials}) > 1  # the workers shared the study
    peak, _ = sessions.figures()
    assert peak <= pool, f"{peak} sessions on the study's database behind a pool of {pool}"
