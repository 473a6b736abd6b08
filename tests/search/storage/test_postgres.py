"""Several machines on PostgreSQL, as a user runs them: the study in PostgreSQL, an MLflow
tracking server backed by PostgreSQL, several dnn-sweep processes joining one study; a
worker killed with kill -9; the database restarted and stopped under a running sweep.

Real PostgreSQL (named by DNNSWEEP_TEST_POSTGRES_URL; skipped when unset or unreachable),
real `mlflow server`, real Optuna, the installed dnn-sweep. Every test makes its own
databases and drops them; the one that restarts and stops its database does so on a private
PostgreSQL server of its own (tests/pg_cluster.py), so the shared server stays up for the
tests beside it.
"""
import datetime
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers import command
from pg_checks import check_runs, check_study
from pg_cluster import private_server
from pg_helpers import fresh_database, mlflow_server, server_url, stop_group

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

# Full-batch trials that train to the end (train.num_iterations, no early stop): the runs'
# full metric history is checked.
QUICK = ["tracking.log_model=false", "train.patience=null", "~search.space.train.batch_size",
         "tracking.history_points=null"]


# -- helpers --------------------------------------------------------------------------------

def start_sweep(cwd, *overrides, env=None, prefix=()):
    """dnn-sweep in its own directory and process group; output to files in cwd."""
    cwd = Path(cwd)
    cwd.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **(env or {})}
    full_env.pop("HYDRA_FULL_ERROR", None)
    out, err = open(cwd / "stdout.txt", "w"), open(cwd / "stderr.txt", "w")
    proc = subprocess.Popen([*prefix, command("dnn-sweep"), *map(str, overrides)], cwd=cwd,
                            env=full_env, stdout=out, stderr=err, start_new_session=True)
    proc.files = (out, err)
    proc.cwd = cwd
    return proc


def finish(proc, timeout):
    """Wait for a sweep (bounded); returns (returncode, stdout, stderr)."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_group(proc)
    finally:
        for f in proc.files:
            f.close()
    return (proc.returncode, (proc.cwd / "stdout.txt").read_text(),
            (proc.cwd / "stderr.txt").read_text())


def load_trials(study_url, name):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(study_url, engine_kwargs={"pool_pre_ping": True})
    try:
        return optuna.load_study(study_name=name, storage=storage).get_trials()
    finally:
        storage.engine.dispose()


def poll_trials(study_url, name, until, timeout, what):
    """load_trials until until(trials) holds; bounded by time (and so by count)."""
    end = time.monotonic() + timeout
    trials = []
    while time.monotonic() < end:
        try:
            trials = load_trials(study_url, name)
        except Exception:  # noqa: BLE001 - study not created yet, or the server restarting
            trials = []
        if until(trials):
            return trials
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; trials: "
                         + ", ".join(f"#{t.number} {t.state.name}" for t in trials))


# -- 1. two machines, one study, one tracking server ------------------------------------------

def test_two_sweeps_share_a_postgres_study_and_an_mlflow_server(tmp_path):
    url = server_url()
    n_trials, iters, name = 8, 200, "e2e-two-machines"
    t0 = time.monotonic()
    with fresh_database(url, "mlflow") as mlflow_db, fresh_database(url, "study") as study_db, \
            mlflow_server(mlflow_db, tmp_path / "server") as uri:
        t_server = time.monotonic() - t0
        env = {"MLFLOW_TRACKING_URI": uri}
        args = [f"search.storage={study_db}", f"search.study_name={name}",
                f"search.n_trials={n_trials}", "search.workers=1",
                f"train.num_iterations={iters}", *QUICK]
        procs = [start_sweep(tmp_path / f"machine{i}", *args, f"search.seed={i}", env=env)
                 for i in (1, 2)]
        results = [finish(p, timeout=240) for p in procs]
        for code, out, err in results:
            assert code == 0, f"dnn-sweep exited {code}\n{out}\n{err[-3000:]}"
        trials = load_trials(study_db, name)
        finished = check_study(trials, n_trials)
        assert len(trials) == n_trials, f"{len(trials)} trials, expected exactly {n_trials}"
        assert len(finished) == n_trials
        # both processes really took part
        owners = {t.user_attrs.get("owner") for t in trials}
        assert len(owners) == 2, owners
        client, parent, runs = check_runs(uri, name, trials, iters)
        assert parent.info.status == "FINISHED"
        # artifacts went through the server
        arts = {a.path for a in client.list_artifacts(runs[finished[0].number].info.run_id)}
        assert {"config.yaml", "parameters.npz"} <= arts, arts
    print(f"\nmlflow server up in {t_server:.1f} s; two sweeps, {n_trials} trials: "
          f"{time.monotonic() - t0:.1f} s in all")


# -- 2. a worker killed with kill -9 ------------------------------------------------------------

def other_host_prefix():
    """`unshare --uts` with another hostname: the killed worker looks like one of another
    machine, so only its heartbeat (not a local pid check) can tell that it died."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return (), False
    probe = subprocess.run(["unshare", "--uts", "sh", "-c", "hostname dnnsweep-other"],
                           capture_output=True, timeout=30)
    if probe.returncode != 0:
        return (), False
    return ("unshare", "--uts", "sh", "-c", 'hostname dnnsweep-other && exec "$0" "$@"'), True


def test_killed_worker_is_failed_and_retried(tmp_path):
    import optuna

    url = server_url()
    name, heartbeat, grace, iters = "killed-worker", 1, 4, 20000
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {"MLFLOW_TRACKING_URI": tracking}
    prefix, other_host = other_host_prefix()
    with fresh_database(url, "killed") as study_db:
        common = [f"search.storage={study_db}", f"search.study_name={name}",
                  f"search.heartbeat_interval={heartbeat}", f"search.grace_period={grace}",
                  "search.workers=1", *QUICK]
        # trials of some seconds each, long enough to be killed in flight; the second
        # launcher runs the same command (a study refuses a launcher of another definition)
        common += ["~search.space.model.hidden_units",
                   f"train.num_iterations={iters}", "train.eval_every=1000"]
        doomed = start_sweep(tmp_path / "a", *common, "search.n_trials=2", env=env,
                             prefix=prefix)
        try:
            running = poll_trials(
                study_db, name, lambda ts: any(t.state.name == "RUNNING"
                                               and t.user_attrs.get("mlflow_run_id")
                                               for t in ts),
                timeout=120, what="a running trial with its MLflow run")
            time.sleep(2 * heartbeat)  # a few heartbeats recorded
            dead = next(t for t in running if t.state.name == "RUNNING")
            os.killpg(doomed.pid, signal.SIGKILL)
            killed_at = datetime.datetime.now()
        finally:
            finish(doomed, timeout=30)
        assert doomed.returncode == -signal.SIGKILL
        assert load_trials(study_db, name)[dead.number].state.name == "RUNNING"
        if other_host:
            assert dead.user_attrs["owner"].startswith("dnnsweep-other:")

        # the same command again: it finds the dead trial and retries it
        code, out, err = finish(start_sweep(tmp_path / "b", *common, "search.n_trials=2",
                                            env=env), timeout=600)
        assert code == 0, f"{out}\n{err[-3000:]}"
        trials = load_trials(study_db, name)
        check_study(trials, 2)
        t_dead = trials[dead.number]
        assert t_dead.state == optuna.trial.TrialState.FAIL
        from search import links

        assert "worker died" in links.fail_reason(t_dead), t_dead.user_attrs
        detected_after = (t_dead.datetime_complete - killed_at).total_seconds()
        retries = [t for t in trials if t.user_attrs.get("retry_of") == dead.number]
        assert len(retries) == 1, [(t.number, t.user_attrs) for t in trials]
        assert retries[0].params == t_dead.params
        assert retries[0].state.is_finished()
        # the dead trial's run was closed, not left RUNNING
        from mlflow import MlflowClient

        run = MlflowClient(tracking).get_run(t_dead.user_attrs["mlflow_run_id"])
        assert run.info.status in ("FAILED", "KILLED"), run.info.status
        check_runs(tracking, name, trials, iters)
        # detection: by heartbeat within grace (+ the restart's own start-up time)
        assert detected_after < grace + 60, detected_after
    print(f"\ndead worker ({'other host: heartbeat' if other_host else 'same host: pid'}) "
          f"detected {detected_after:.1f} s after kill -9 (grace {grace} s); "
          f"retried as trial #{retries[0].number}")


# -- 3. the database restarted and stopped under a running sweep ------------------------------

def test_sweep_rides_out_postgres_restart_and_outage(tmp_path):
    """The study's own PostgreSQL server (private: restarting the shared one would break
    the tests running beside this one) restarted, then stopped for 10 s, under a sweep."""
    import optuna

    name, n_trials, iters = "outage", 10, 4000
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with private_server() as pg:
        study_db = pg.url
        proc = None
        try:
            proc = start_sweep(
                tmp_path / "sweep", f"search.storage={study_db}", f"search.study_name={name}",
                f"search.n_trials={n_trials}", "search.workers=2",
                "search.heartbeat_interval=1", "search.grace_period=5",
                f"train.num_iterations={iters}", "search/pruner=none",
                "search.space.train.learning_rate.high=0.5", *QUICK,
                env={"MLFLOW_TRACKING_URI": tracking})

            def running_and_done(k):
                return lambda ts: (sum(t.state.is_finished() for t in ts) >= k
                                   and any(t.state.name == "RUNNING" for t in ts))

            poll_trials(study_db, name, running_and_done(1), 180, "a first finished trial")
            pg.restart()  # restart, stop, start: each raises if pg_ctl fails, waits until done
            poll_trials(study_db, name, running_and_done(4), 180, "trials after the restart")
            pg.stop()
            time.sleep(10)
            pg.start()
            code, out, err = finish(proc, timeout=300)
            proc = None
        finally:
            if proc is not None:
                finish(proc, timeout=5)
        assert code == 0, f"dnn-sweep exited {code}\n{out}\n{err[-4000:]}"
        assert "unreachable" in err, "the sweep never met the outage:\n" + err[-3000:]
        trials = load_trials(study_db, name)
        finished = check_study(trials, n_trials)
        assert len(trials) == n_trials, [(t.number, t.state.name) for t in trials]
        assert len(finished) == n_trials
        from search import links

        mistaken = [(t.number, links.fail_reason(t)) for t in trials
                    if t.state == optuna.trial.TrialState.FAIL
                    and "diverg" not in links.fail_reason(t).lower()]
        assert not mistaken, f"trials failed by the outage: {mistaken}"
        check_runs(tracking, name, trials, iters)
    waits = [line for line in err.splitlines() if "dnnsweep: study storage" in line]
    print("\n" + "\n".join(waits))


# -- 4. connections dropped at random moments ----------------------------------------------------

def test_dropped_connections_never_duplicate_or_lose_a_trial():
    """pg_terminate_backend on the study database's sessions at random moments (only this
    test's database: the server stays up for everyone else) while trials are asked,
    reported, told and enqueued: every write lands exactly once."""
    import random
    import threading

    import optuna
    import sqlalchemy
    from pg_helpers import _connect

    from search.storage.stores import make_storage

    url = server_url()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    with fresh_database(url, "drops") as db:
        dbname = sqlalchemy.engine.make_url(db).database
        storage = make_storage(db, None, None, retry_budget=60)
        study = optuna.create_study(storage=storage, study_name="drops")
        stop, kills = threading.Event(), []

        def killer():
            conn = _connect(url)
            try:
                with conn.cursor() as cur:
                    while not stop.wait(random.uniform(0.1, 0.5)):
                        cur.execute("SELECT count(pg_terminate_backend(pid)) FROM "
                                    "pg_stat_activity WHERE datname = %s", (dbname,))
                        kills.append(cur.fetchone()[0])
            finally:
                conn.close()

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        told, enqueued = [], 0
        end = time.monotonic() + 25
        try:
            for i in range(400):
                if time.monotonic() > end:
                    break
                if i % 4 == 0:
                    study.enqueue_trial({"x": 0.5})
                    enqueued += 1
                trial = study.ask()
                x = trial.suggest_float("x", 0, 1)
                for step in range(3):
                    trial.report(x, step)
                trial.set_user_attr("i", i)
                study.tell(trial, x)
                told.append(trial.number)
        finally:
            stop.set()
            thread.join(timeout=10)
        storage.close()
        trials = load_trials(db, "drops")
    assert sum(kills) > 0, "no connection was dropped"
    S = optuna.trial.TrialState
    by_state = {s.name: [t.number for t in trials if t.state == s] for s in S}
    assert by_state["RUNNING"] == [], f"orphaned trials (created or claimed twice): {by_state}"
    assert sorted(by_state["COMPLETE"]) == sorted(told), by_state
    assert len(trials) == len(told) + len(by_state["WAITING"])
    assert len(told) - (enqueued - len(by_state["WAITING"])) >= 0
    print(f"\n{len(told)} trials told, {enqueued} enqueued, {sum(kills)} sessions killed: "
          f"none duplicated or lost")
