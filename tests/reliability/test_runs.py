"""Runs under faults, with real processes and stores: diverging trials end FAIL with their
reason and the study goes on (a study where every trial failed exits 1 with a clear
message); credentials in URLs never reach params, tags, artifacts or the output; dnn-train
stopped by a signal closes its run KILLED in one line.
"""
import os
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest
from faults import (
    DEADLINE,
    FIXED_LENGTH,
    S,
    all_runs,
    assert_nothing_left_running,
    assert_one_run_per_trial,
    cli_env,
    client_of,
    load_trials,
    wait_for,
)
from helpers import command, run_cli
from mlflow import MlflowClient
from pg_helpers import mlflow_server

# ------------------------------------------------------------------------ numerical faults

@pytest.fixture
def huge_features(tmp_path):
    """Features of order 1e300 without standardization, trained in float64 (past float32's
    range they are refused before the study starts): relu networks overflow to NaN,
    saturating tanh/sigmoid networks stay finite."""
    rng = np.random.RandomState(0)
    X = rng.randn(200, 3) * 1e300
    y = (rng.rand(200) > 0.5).astype(int)
    np.savez(tmp_path / "huge.npz", X=X, y=y)
    return ["data=npz", f"data.path={tmp_path / 'huge.npz'}", "data.standardize=false",
            "search.study_name=huge", "~search.space.train", "~search.space.model.hidden_units",
            "search/sampler=grid", "search/pruner=none", "search.workers=1",
            "train.num_iterations=40", "tracking.log_model=false", "train.dtype=float64"]


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


def everything_stored(client, folder):
    """Params, tags and text artifacts of every run of the store, as one string."""
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
                local = client.download_artifacts(run.info.run_id, a.path, str(folder))
                texts.append(Path(local).read_text())
    return "\n".join(texts)


@pytest.mark.slow
def test_passwords_in_the_tracking_url_are_masked_everywhere(tmp_path):
    # A real tracking server (no authentication: it ignores the credentials) reached through
    # a URL with a password: the config (params, config.yaml, overrides.yaml, summary)
    # carries the URL, masked.
    with mlflow_server(f"sqlite:///{tmp_path}/server/mlflow.db", tmp_path / "server") as uri:
        secret_url = uri.replace("http://", f"http://alice:{SECRET}@")
        train = run_cli("dnn-train", f"tracking.uri={secret_url}", "train.num_iterations=20",
                        "tracking.log_model=false", cwd=tmp_path)
        assert train.returncode == 0, train.stderr
        sweep = run_cli("dnn-sweep", f"tracking.uri={secret_url}", "search.n_trials=2",
                        "search.workers=1", *FIXED_LENGTH, "train.num_iterations=20",
                        cwd=tmp_path)
        assert sweep.returncode == 0, sweep.stderr
        client = MlflowClient(uri)
        stored = everything_stored(client, tmp_path / "dl")
        assert "config.yaml" in str([a.path for r in all_runs(client)
                                     for a in client.list_artifacts(r.info.run_id)])
    assert "alice:***@127.0.0.1" in stored, "the URL is kept, masked"
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
