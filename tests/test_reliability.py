"""Local reliability of dnn-sweep: real processes, real stores (the local default: MLflow in
sqlite:///mlruns/mlflow.db, Optuna in mlruns/optuna.journal) in temporary working directories.

- a worker killed with kill -9 mid-trial: its trial ends FAIL within seconds, is retried once
  with the same parameters, and its MLflow run does not stay RUNNING;
- Ctrl-C (SIGINT to the process group) and SIGTERM: the sweep stops within seconds with the
  in-flight trials and runs closed, and the same command resumes the study to its total;
- 4 local workers on one study of 200 quick trials: every trial and run complete, no
  "database is locked";
- numerical faults: diverging trials end FAIL with their reason, the study goes on, and a
  study where every trial failed exits 1 with a clear message;
- credentials in URLs never reach params, tags, artifacts or the output.
"""
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import optuna
import pytest
from mlflow import MlflowClient

from helpers import command, run_cli

REPO = Path(__file__).resolve().parents[1]

S = optuna.trial.TrialState
FINISHED = (S.COMPLETE, S.PRUNED, S.FAIL)
# Trials that differ only in learning rate, optimizer, L2 and activation: the run length is
# exactly train.num_iterations and the network is the default [8, 4].
FIXED_LENGTH = ["~search.space.train.num_iterations", "~search.space.train.batch_size",
                "~search.space.model.hidden_units", "search/pruner=none",
                "tracking.log_model=false"]
STUDY = "planar-sweep"
DEADLINE = 600  # generous: 2 cores shared with other test runs


def cli_env(extra=None):
    env = {k: v for k, v in os.environ.items()
           if k not in ("MLFLOW_TRACKING_URI", "HYDRA_FULL_ERROR")}
    return {**env, **(extra or {})}


class Sweep:
    """dnn-sweep in its own process group (as a shell runs it), output to files."""

    def __init__(self, cwd, *args, env=None):
        self.cwd = Path(cwd)
        self.out = open(self.cwd / "sweep.out", "a")
        self.err = open(self.cwd / "sweep.err", "a")
        self.proc = subprocess.Popen([command("dnn-sweep"), *args], cwd=cwd, env=cli_env(env),
                                     stdout=self.out, stderr=self.err, start_new_session=True)

    @property
    def pid(self):
        return self.proc.pid

    def wait(self, timeout=DEADLINE):
        return self.proc.wait(timeout=timeout)

    def output(self):
        self.out.flush(), self.err.flush()
        return (self.cwd / "sweep.out").read_text(), (self.cwd / "sweep.err").read_text()

    def kill(self):
        """Whatever is left of the sweep and its workers (finally blocks)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        self.out.close(), self.err.close()


def wait_for(predicate, timeout, what, every=0.5):
    """predicate()'s first truthy value within timeout seconds (exceptions count as no)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            value = predicate()
        except Exception:  # noqa: BLE001 - a store being written: look again
            value = None
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def journal(cwd):
    return Path(cwd) / "mlruns" / "optuna.journal"


def load_trials(cwd, study=STUDY):
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    if not journal(cwd).exists():
        return []
    storage = JournalStorage(JournalFileBackend(str(journal(cwd))))
    return optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)


def client_of(cwd):
    return MlflowClient(f"sqlite:///{Path(cwd).resolve()}/mlruns/mlflow.db")


def all_runs(client):
    return [r for e in client.search_experiments()
            for r in client.search_runs([e.experiment_id], max_results=5000)]


def split_runs(client):
    runs = all_runs(client)
    parents = [r for r in runs if r.data.tags.get("dnnsweep.role") == "study"]
    children = [r for r in runs if r.data.tags.get("dnnsweep.role") != "study"]
    return parents, children


def counted(trials):
    """Finished trials that count toward n_trials (a retried trial is replaced by its retry)."""
    replaced = {t.user_attrs.get("retry_of") for t in trials} - {None}
    return [t for t in trials if t.state in FINISHED and t.number not in replaced]


def pid_of(owner):
    return int(owner.rpartition(":")[2])


def process_state(pid):
    """(state letter, kernel wait channel) of pid, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rpartition(")")[2].split()[0]
        with open(f"/proc/{pid}/wchan") as f:
            return state, f.read()
    except OSError:
        return None


def ended(pid):
    """The process has exited: gone, or a zombie its new parent has not reaped yet (an
    orphan's exit status is collected by init, whenever init gets to it)."""
    state = process_state(pid)
    return state is None or state[0] in ("Z", "X")


def assert_nothing_left_running(cwd, study=STUDY):
    trials = load_trials(cwd, study)
    assert not [t.number for t in trials if t.state == S.RUNNING], "trials left RUNNING"
    running = [r.info.run_id for r in all_runs(client_of(cwd)) if r.info.status == "RUNNING"]
    assert not running, f"MLflow runs left RUNNING: {running}"


def assert_one_run_per_trial(cwd, trials):
    parents, children = split_runs(client_of(cwd))
    assert len(parents) == 1, "the study must have exactly one parent run"
    ids = [t.user_attrs.get("mlflow_run_id") for t in trials if t.state != S.WAITING]
    assert None not in ids and len(set(ids)) == len(ids), "every trial has its own run"
    assert sorted(ids) == sorted(r.info.run_id for r in children)
    assert all(r.data.tags["mlflow.parentRunId"] == parents[0].info.run_id for r in children)
    return parents[0], children


def assert_retries_repeat_their_trial(trials):
    by_number = {t.number: t for t in trials}
    retries = [t for t in trials if "retry_of" in t.user_attrs]
    for r in retries:
        original = by_number[r.user_attrs["retry_of"]]
        assert original.state == S.FAIL and r.params == original.params
        assert "retry_of" not in original.user_attrs, "a trial is retried once only"
    assert len({r.user_attrs["retry_of"] for r in retries}) == len(retries)
    return retries


# ---------------------------------------------------------------------------- killed worker

@pytest.mark.slow
def test_a_killed_worker_trial_fails_is_retried_and_its_run_is_closed(tmp_path):
    n_trials = 3
    args = ["search.workers=2", f"search.n_trials={n_trials}", *FIXED_LENGTH,
            "train.num_iterations=20000", "train.eval_every=1000"]
    sweep = Sweep(tmp_path, *args)
    try:
        def victim():
            for t in load_trials(tmp_path):
                owner, run_id = t.user_attrs.get("owner"), t.user_attrs.get("mlflow_run_id")
                if t.state == S.RUNNING and owner and run_id and pid_of(owner) != sweep.pid:
                    status = client_of(tmp_path).get_run(run_id).info.status
                    if status == "RUNNING":
                        return t
            return None
        trial = wait_for(victim, DEADLINE, "a running trial with its MLflow run")
        os.kill(pid_of(trial.user_attrs["owner"]), signal.SIGKILL)
        killed_at = time.monotonic()

        def failed():
            t = {t.number: t for t in load_trials(tmp_path)}[trial.number]
            return t if t.state == S.FAIL else None
        dead = wait_for(failed, 120, f"trial {trial.number} of the killed worker to end FAIL",
                        every=0.2)
        detect = time.monotonic() - killed_at
        print(f"\ndead worker's trial {trial.number} failed {detect:.1f} s after kill -9")
        assert "worker died" in dead.user_attrs["fail_reason"]
        def closed():  # the trial is failed first, then its run is closed
            run = client_of(tmp_path).get_run(trial.user_attrs["mlflow_run_id"])
            return run if run.info.status != "RUNNING" else None
        run = wait_for(closed, 60, "the dead worker's run to be closed")
        print(f"its MLflow run closed {time.monotonic() - killed_at:.1f} s after kill -9")
        assert run.info.status in ("FAILED", "KILLED"), "the dead worker's run is closed"
        assert "worker died" in run.data.tags.get("error", "")

        assert sweep.wait() == 0, sweep.output()
        trials = load_trials(tmp_path)
        retries = assert_retries_repeat_their_trial(trials)
        assert [r.user_attrs["retry_of"] for r in retries] == [trial.number]
        assert retries[0].state == S.COMPLETE
        assert len(counted(trials)) == n_trials, "no trial lost, none too many"
        assert_one_run_per_trial(tmp_path, trials)
        assert_nothing_left_running(tmp_path)
    finally:
        sweep.kill()


# ------------------------------------------------------------------------ interrupted sweep

def interrupt(sweep, how):
    if how == "ctrl-c":
        os.killpg(sweep.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
    else:
        os.kill(sweep.pid, signal.SIGTERM)  # the launcher only, as `kill PID` does


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
@pytest.mark.slow
def test_an_interrupted_sweep_closes_its_trials_and_resumes_to_its_total(tmp_path, how):
    n_trials = 4
    args = ["search.workers=2", f"search.n_trials={n_trials}", *FIXED_LENGTH,
            "train.num_iterations=6000", "train.eval_every=500"]
    sweep = Sweep(tmp_path, *args)
    try:
        def in_flight():
            trials = load_trials(tmp_path)
            running = [t for t in trials if t.state == S.RUNNING
                       and t.user_attrs.get("mlflow_run_id")]
            return running if len(running) == 2 else None
        wait_for(in_flight, DEADLINE, "both workers inside a trial")
        interrupt(sweep, how)
        sent = time.monotonic()
        code = sweep.wait(timeout=120)
        stop = time.monotonic() - sent
        print(f"\n{how}: dnn-sweep exited {code} after {stop:.1f} s")
        out, err = sweep.output()
        assert code == 130, (out, err)
        assert "run the same command again to resume" in err
        assert "Traceback" not in err
        assert_nothing_left_running(tmp_path)
        trials = load_trials(tmp_path)
        stopped = [t for t in trials if t.user_attrs.get("fail_reason") == "interrupted"]
        assert stopped, "the in-flight trials are closed as interrupted"
        client = client_of(tmp_path)
        for t in stopped:
            assert t.state == S.FAIL
            run = client.get_run(t.user_attrs["mlflow_run_id"])
            assert run.info.status == "KILLED" and run.data.tags["error"] == "interrupted"
        parents, _ = split_runs(client)
        assert [p.info.status for p in parents] == ["KILLED"]

        again = run_cli("dnn-sweep", *args, cwd=tmp_path, timeout=DEADLINE)
        assert again.returncode == 0, (again.stdout, again.stderr)
        trials = load_trials(tmp_path)
        assert len(counted(trials)) == n_trials, "the study resumes to its total"
        assert not [t for t in trials if t.state in (S.WAITING, S.RUNNING)]
        retries = assert_retries_repeat_their_trial(trials)
        assert {r.user_attrs["retry_of"] for r in retries} == {t.number for t in stopped}
        parent, _ = assert_one_run_per_trial(tmp_path, trials)
        assert parent.info.status == "FINISHED"
        assert_nothing_left_running(tmp_path)
    finally:
        sweep.kill()


# ------------------------------------------------------------------------------ concurrency

@pytest.mark.slow
def test_four_workers_share_one_study_of_200_trials(tmp_path):
    n_trials, iterations = 200, 30
    start = time.monotonic()
    proc = run_cli("dnn-sweep", "search.workers=4", f"search.n_trials={n_trials}",
                   "search/sampler=random", *FIXED_LENGTH, f"train.num_iterations={iterations}",
                   cwd=tmp_path, timeout=DEADLINE)
    print(f"\n{n_trials} trials on 4 workers: {time.monotonic() - start:.0f} s")
    output = proc.stdout + proc.stderr
    assert "database is locked" not in output and "Traceback" not in output
    assert proc.returncode == 0, output
    trials = load_trials(tmp_path)
    assert len(trials) == n_trials
    assert all(t.state == S.COMPLETE for t in trials), \
        {t.number: t.user_attrs.get("fail_reason") for t in trials if t.state != S.COMPLETE}
    parent, children = assert_one_run_per_trial(tmp_path, trials)
    assert parent.info.status == "FINISHED"
    assert all(r.info.status == "FINISHED" for r in children)
    client = client_of(tmp_path)
    for r in children:
        steps = [m.step for m in client.get_metric_history(r.info.run_id, "train_cost")]
        assert sorted(steps) == list(range(iterations)), r.info.run_id
        assert {"val_cost", "val_accuracy", "train_accuracy"} <= set(r.data.metrics)
    owners = {t.user_attrs["owner"] for t in trials}
    assert len(owners) == 4, "the four workers all ran trials"
    assert len({tuple(sorted(t.params.items())) for t in trials}) == n_trials, \
        "workers sample different trials (not the same seeded sequence four times)"


# ------------------------------------------------------------------------ numerical faults

@pytest.fixture
def huge_features(tmp_path):
    """Features of order 1e300 without standardization: relu networks overflow to NaN,
    saturating tanh/sigmoid networks stay finite."""
    rng = np.random.RandomState(0)
    X = rng.randn(200, 3) * 1e300
    y = (rng.rand(200) > 0.5).astype(int)
    np.savez(tmp_path / "huge.npz", X=X, y=y)
    return ["data=npz", f"data.path={tmp_path / 'huge.npz'}", "data.standardize=false",
            "search.study_name=huge", "~search.space.train", "~search.space.model.hidden_units",
            "search/sampler=grid", "search/pruner=none", "search.workers=1",
            "train.num_iterations=40", "tracking.log_model=false"]


@pytest.mark.slow
def test_diverging_trials_fail_with_their_reason_and_the_study_goes_on(tmp_path, huge_features):
    proc = run_cli("dnn-sweep", *huge_features, "search.n_trials=3",
                   "search.space.model.activation.choices=[relu,tanh,sigmoid]", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    trials = load_trials(tmp_path, "huge")
    by_activation = {t.params["model.activation"]: t for t in trials}
    assert set(by_activation) == {"relu", "tanh", "sigmoid"}
    failed = by_activation["relu"]
    assert failed.state == S.FAIL and "diverged" in failed.user_attrs["fail_reason"]
    assert by_activation["tanh"].state == by_activation["sigmoid"].state == S.COMPLETE
    run = client_of(tmp_path).get_run(failed.user_attrs["mlflow_run_id"])
    assert run.info.status == "FAILED" and "diverged" in run.data.tags["error"]
    assert run.data.tags["optuna.state"] == "FAIL"
    assert "retry_of" not in str([t.user_attrs for t in trials]), "a real failure is not retried"
    assert_nothing_left_running(tmp_path, "huge")


@pytest.mark.slow
def test_a_study_whose_every_trial_fails_exits_1_with_a_clear_message(tmp_path, huge_features):
    proc = run_cli("dnn-sweep", *huge_features, "search.n_trials=2",
                   "search.space.model.activation.choices=[relu,leaky_relu]", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "error: every trial failed" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.count("error:") == 1, proc.stderr  # no second "invalid command line"
    trials = load_trials(tmp_path, "huge")
    assert len(trials) == 2 and all(t.state == S.FAIL for t in trials)
    assert all("diverged" in t.user_attrs["fail_reason"] for t in trials)
    _, children = assert_one_run_per_trial(tmp_path, trials)
    assert all(r.info.status == "FAILED" for r in children)
    assert_nothing_left_running(tmp_path, "huge")


# --------------------------------------------------------------------------------- secrets

SECRET = "s3cr3tPw"
SECRET_URL = f"http://alice:{SECRET}@tracking.example.invalid:5000"


def everything_stored(cwd):
    """Params, tags and text artifacts of every run of the store, as one string."""
    client = client_of(cwd)
    texts = []
    for run in all_runs(client):
        texts += [repr(run.data.params), repr(run.data.tags), repr(run.data.metrics),
                  run.info.run_name or ""]
        pending = list(client.list_artifacts(run.info.run_id))
        while pending:
            a = pending.pop()
            if a.is_dir:
                pending += client.list_artifacts(run.info.run_id, a.path)
            elif a.path.endswith((".yaml", ".csv", ".txt", ".json", "MLmodel")):
                local = client.download_artifacts(run.info.run_id, a.path, str(cwd / "dl"))
                texts.append(Path(local).read_text())
    return "\n".join(texts)


@pytest.mark.slow
def test_passwords_in_the_tracking_url_are_masked_everywhere(tmp_path):
    # MLFLOW_TRACKING_URI wins over tracking.uri: the runs land in a local store while the
    # config (params, config.yaml, overrides.yaml, summary) carries a URL with a password.
    store = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlruns/mlflow.db"}
    train = run_cli("dnn-train", f"tracking.uri={SECRET_URL}", "train.num_iterations=20",
                    "tracking.log_model=false", cwd=tmp_path, env=store)
    assert train.returncode == 0, train.stderr
    sweep = run_cli("dnn-sweep", f"tracking.uri={SECRET_URL}", "search.n_trials=2",
                    "search.workers=1", *FIXED_LENGTH, "train.num_iterations=20",
                    cwd=tmp_path, env=store)
    assert sweep.returncode == 0, sweep.stderr
    stored = everything_stored(tmp_path)
    assert "config.yaml" in str([a.path for r in all_runs(client_of(tmp_path))
                                 for a in client_of(tmp_path).list_artifacts(r.info.run_id)])
    assert "alice:***@tracking.example.invalid" in stored, "the URL is kept, masked"
    for text in (train.stdout, train.stderr, sweep.stdout, sweep.stderr, stored):
        assert SECRET not in text


@pytest.mark.slow
def test_passwords_in_the_storage_url_are_masked_in_errors(tmp_path):
    url = f"postgresql+psycopg2://alice:{SECRET}@127.0.0.1:1/studies"
    for env in ({}, {"HYDRA_FULL_ERROR": "1"}):
        proc = subprocess.run([command("dnn-sweep"), f"search.storage={url}",
                               "search.n_trials=1", "search.workers=1"], cwd=tmp_path,
                              env=cli_env(env), capture_output=True, text=True, timeout=300)
        assert proc.returncode == 2, proc.stderr
        assert "alice:***@127.0.0.1" in proc.stderr
        assert SECRET not in proc.stdout + proc.stderr
    assert not (tmp_path / "mlruns" / "mlflow.db").exists(), "no run store touched"


# ------------------------------------------------------------------------- dnn-train signals

@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
@pytest.mark.slow
def test_dnn_train_stopped_by_a_signal_closes_its_run_killed_in_one_line(tmp_path, signum, code):
    proc = subprocess.Popen([command("dnn-train"), "train.num_iterations=2000000",
                             "train.eval_every=1000", "tracking.log_model=false"],
                            cwd=tmp_path, env=cli_env(), stdout=open(tmp_path / "out", "w"),
                            stderr=open(tmp_path / "err", "w"), text=True,
                            start_new_session=True)
    try:
        def training():  # the store appears whole (made aside, then linked in place)
            if not (tmp_path / "mlruns" / "mlflow.db").exists():
                return None
            runs = all_runs(client_of(tmp_path))
            return runs if runs and client_of(tmp_path).get_metric_history(
                runs[0].info.run_id, "train_cost") else None
        run = wait_for(training, DEADLINE, "the run to log its first iterations")[0]
        os.kill(proc.pid, signum)
        proc.wait(timeout=120)
        err = (tmp_path / "err").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    lines = [line for line in err.splitlines() if line.strip() and "iteration" not in line]
    assert lines == [f"dnn-train: stopped by {signum.name}; MLflow run {run.info.run_id} "
                     "closed KILLED"], err
    stored = client_of(tmp_path).get_run(run.info.run_id)
    assert stored.info.status == "KILLED"
    assert stored.data.tags["error"] == f"interrupted by {signum.name}"


# ----------------------------------------------------------------- a new MLflow store raced

RACE = """import sys, time
mode, uri, start = sys.argv[1:4]
if mode == "ours":
    from omegaconf import OmegaConf
    from search.tracking.client import client_for
    import mlflow
else:
    from mlflow import MlflowClient
while time.time() < float(start):
    time.sleep(0.001)
if mode == "ours":
    client_for(OmegaConf.create({"uri": uri})).search_experiments()
else:
    MlflowClient(uri).search_experiments()
"""


@pytest.mark.slow
def test_a_new_mlflow_store_created_by_another_client_at_once_is_waited_for(tmp_path):
    """Another MLflow client creating a brand-new SQLite store while the sweep does: the
    sweep's side must not die of 'table ... already exists' (3 rounds, 2 of ours, 1 other)."""
    import sys

    for round_ in range(3):
        uri = f"sqlite:///{tmp_path}/r{round_}/mlflow.db"
        (tmp_path / f"r{round_}").mkdir()
        start = str(time.time() + 8)  # all imports done: they open the store together
        procs = {f"{m}-{i}": subprocess.Popen([sys.executable, "-c", RACE, m, uri, start],
                                             stderr=subprocess.PIPE, text=True,
                                             env=cli_env({"PYTHONPATH": str(REPO)}))
                 for i, m in enumerate(["ours", "other", "ours"])}
        errors = {k: p.communicate(timeout=DEADLINE)[1] for k, p in procs.items()}
        failed = {k: e[-400:] for k, e in errors.items() if procs[k].returncode != 0}
        assert not [k for k in failed if k.startswith("ours")], failed
        assert not list((tmp_path / f"r{round_}").glob("mlflow.db.new-*"))


# ------------------------------------------------------------ two launchers, one study

@pytest.mark.slow
def test_two_launchers_of_one_study_draw_their_own_trials(tmp_path):
    args = ["search.workers=1", "search.n_trials=6", "search/sampler=random", *FIXED_LENGTH,
            "train.num_iterations=30"]
    a, b = Sweep(tmp_path, *args), Sweep(tmp_path, *args)
    try:
        assert a.wait() == 0 and b.wait() == 0, (a.output(), b.output())
    finally:
        a.kill(), b.kill()
    trials = load_trials(tmp_path)
    drawn = [tuple(sorted(t.params.items())) for t in trials]
    assert len(trials) >= 6 and len(set(drawn)) == len(drawn), drawn


# --------------------------------------------------------------------- launcher kill -9

@pytest.mark.slow
def test_a_launcher_killed_with_kill_9_stops_its_workers_and_a_rerun_reaches_the_total(tmp_path):
    """kill -9 of the launcher: its workers stop at their next iteration (parent-death
    signal), closing their trials (FAIL "interrupted") and runs (KILLED); the same command
    run again finds nothing running elsewhere, closes the parent run and reaches the total."""
    n_trials = 3
    args = ["search.workers=2", f"search.n_trials={n_trials}", *FIXED_LENGTH,
            "train.num_iterations=5000", "train.eval_every=500"]
    sweep = Sweep(tmp_path, *args)
    try:
        def in_flight():
            running = [t for t in load_trials(tmp_path) if t.state == S.RUNNING
                       and t.user_attrs.get("mlflow_run_id")]
            return running if len(running) == 2 else None
        running = wait_for(in_flight, DEADLINE, "both workers inside a trial", every=0.2)
        os.kill(sweep.pid, signal.SIGKILL)  # the launcher only: its workers are orphans
        killed_at = time.monotonic()

        pids = [pid_of(t.user_attrs["owner"]) for t in running]
        try:
            wait_for(lambda: all(map(ended, pids)), 120, "the orphaned workers to stop",
                     every=0.2)
        except AssertionError as e:
            raise AssertionError(f"{e}; workers: {[process_state(p) for p in pids]}; "
                                 f"output: {sweep.output()}") from None
        print(f"\norphaned workers gone {time.monotonic() - killed_at:.1f} s after kill -9")
        trials = {t.number: t for t in load_trials(tmp_path)}
        for t in running:
            assert trials[t.number].state == S.FAIL
            assert trials[t.number].user_attrs["fail_reason"] == "interrupted"
            assert client_of(tmp_path).get_run(t.user_attrs["mlflow_run_id"]).info.status \
                == "KILLED"
        parents, _ = split_runs(client_of(tmp_path))
        assert [p.info.status for p in parents] == ["RUNNING"], "its launcher died"
    finally:
        sweep.kill()

    again = run_cli("dnn-sweep", *args, cwd=tmp_path, timeout=DEADLINE)  # the same command
    assert again.returncode == 0, (again.stdout, again.stderr)
    assert "running elsewhere" not in again.stdout + again.stderr
    trials = load_trials(tmp_path)
    assert len(counted(trials)) == n_trials, "the study reaches its total"
    retries = assert_retries_repeat_their_trial(trials)
    assert {r.user_attrs["retry_of"] for r in retries} == {t.number for t in running}
    parent, _ = assert_one_run_per_trial(tmp_path, trials)
    assert parent.info.status == "FINISHED"
    assert_nothing_left_running(tmp_path)


# ------------------------------------------------------------------------ torn journal

@pytest.mark.slow
def test_a_torn_journal_record_is_dropped_with_a_copy_kept_and_the_study_goes_on(tmp_path):
    args = ["search.workers=1", *FIXED_LENGTH, "train.num_iterations=30"]
    run_cli("dnn-sweep", "search.n_trials=2", *args, cwd=tmp_path, check=0)
    path = journal(tmp_path)
    whole = path.read_bytes()
    last = whole[:-1].rfind(b"\n") + 1
    path.write_bytes(whole[:last + (len(whole) - last) // 2])  # the last record cut in half
    torn = path.read_bytes()
    proc = run_cli("dnn-sweep", "search.n_trials=4", *args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if "incomplete last record" in line]
    assert len(notes) == 1, proc.stderr
    copies = list(path.parent.glob("optuna.journal.torn-*"))
    assert len(copies) == 1 and copies[0].read_bytes() == torn and str(copies[0].name) in notes[0]
    assert len(counted(load_trials(tmp_path))) == 4
    assert_nothing_left_running(tmp_path)
