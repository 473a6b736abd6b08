"""dnn-train and dnn-reproduce against a real temporary MLflow store."""
import numpy as np
import pytest
from helpers import run_cli, run_id_from
from mlflow import MlflowClient

FAST = ["train.num_iterations=120", "train.eval_every=40"]


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A temporary working directory whose default local store the CLIs use."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def client_of(store):
    return MlflowClient(f"sqlite:///{store}/mlruns/mlflow.db")


def all_runs(client):
    return [r for e in client.search_experiments() for r in client.search_runs([e.experiment_id])]


@pytest.fixture
def tracked_run(store):
    proc = run_cli("dnn-train", *FAST, "model.hidden_units=[6,3]", cwd=store, check=0)
    return store, run_id_from(proc.stdout), proc


@pytest.mark.slow
def test_a_run_records_params_metrics_artifacts_tags(tracked_run):
    store, run_id, proc = tracked_run
    client = client_of(store)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["model.hidden_units"] == "[6, 3]"
    assert params["train.learning_rate"] == "0.3" and params["data.name"] == "planar"
    assert {"tracking.uri", "train.num_iterations", "model.activation"} <= set(params)
    steps = [m.step for m in client.get_metric_history(run_id, "train_cost")]
    assert steps == list(range(120))
    assert [m.step for m in client.get_metric_history(run_id, "val_cost")] == [0, 40, 80, 119]
    assert {"train_accuracy", "val_accuracy", "val_cost"} <= set(run.data.metrics)
    artifacts = {a.path for a in client.list_artifacts(run_id)}
    assert {"config.yaml", "overrides.yaml", "parameters.npz", "cost_curve.png"} <= artifacts
    tags = run.data.tags
    assert tags["seed"] == "1" and "dnnsweep.version" in tags and "numpy.version" in tags
    # MLflow's own "Source" and "User" columns, and the experiment opens on its runs.
    assert tags["mlflow.source.name"] == "dnn-train" and tags["mlflow.source.type"] == "LOCAL"
    assert tags["mlflow.user"]
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    # The network is a logged model of the run (tests/search/tracking/test_model.py checks it in full).
    assert [o.model_id for o in run.outputs.model_outputs]
    # Nothing from other libraries' loggers (MLflow creating the new store, alembic).
    assert "INFO" not in proc.stderr and "alembic" not in proc.stderr
    assert run.inputs.dataset_inputs[0].dataset.digest
    assert "final train_cost=" in proc.stdout and "dnn-reproduce " + run_id in proc.stdout


@pytest.mark.slow
def test_model_and_parameters_load_back_and_predict_like_dnn(tracked_run, tmp_path, monkeypatch):
    import mlflow.pyfunc

    from dnn import predict
    from dnn.data import load_dataset

    store, run_id, _ = tracked_run
    client = client_of(store)
    path = client.download_artifacts(run_id, "parameters.npz", str(tmp_path))
    with np.load(path, allow_pickle=False) as f:
        parameters = {k: f[k] for k in f.files}
    assert parameters["W1"].shape == (6, 2)
    # Through the environment, which the fixture restores: set_tracking_uri alone would
    # leave MLFLOW_TRACKING_URI set for every later test's subprocesses.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}/mlruns/mlflow.db")
    mlflow.set_tracking_uri(f"sqlite:///{store}/mlruns/mlflow.db")
    model = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    d = load_dataset("planar")  # not standardized: its raw rows are the network's columns
    answers = model.predict(d.X_val.T)  # raw examples as rows -> a class and its index each
    np.testing.assert_array_equal(answers["class_index"],
                                  predict(d.X_val, parameters, "tanh").ravel())


@pytest.mark.slow
def test_reproduce_gives_zero_difference_and_overrides_extend(tracked_run):
    store, run_id, _ = tracked_run
    proc = run_cli("dnn-reproduce", run_id, cwd=store, check=0)
    assert "difference over 120 common iterations: 0" in proc.stdout
    new_id = proc.stdout.split()[2]
    assert client_of(store).get_run(new_id).data.tags["reproduced_from"] == run_id
    longer = run_cli("dnn-reproduce", run_id, "train.num_iterations=150", cwd=store, check=0)
    assert "over 120 common iterations: 0" in longer.stdout
    config = run_cli("dnn-reproduce", run_id, "--config-only", cwd=store, check=0)
    assert "hidden_units:\n  - 6\n  - 3" in config.stdout


@pytest.mark.slow
def test_reproduce_retrains_with_the_runs_blas_threads(store):
    """A sweep's workers run BLAS with fewer threads than a lone process: the re-run uses
    the run's own count (its last bits can depend on it)."""
    one = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    run_id = run_id_from(run_cli("dnn-train", *FAST, cwd=store, env=one, check=0).stdout)
    assert client_of(store).get_run(run_id).data.tags["numpy.blas_threads"] == "1"
    two = {"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}  # what it would run with
    proc = run_cli("dnn-reproduce", run_id, cwd=store, env=two, check=0)
    new_id = proc.stdout.split()[2]
    assert client_of(store).get_run(new_id).data.tags["numpy.blas_threads"] == "1"


@pytest.mark.slow
def test_reproducing_a_trial_adds_no_child_to_its_study(tracked_run):
    store, run_id, _ = tracked_run
    client = client_of(store)
    run = client.get_run(run_id)
    # Make the run a trial of a study: nested under the study's run, with Optuna's tags.
    parent = client.create_run(run.info.experiment_id, run_name="study").info.run_id
    client.set_tag(run_id, "mlflow.parentRunId", parent)
    client.set_tag(run_id, "optuna.trial_number", "45")
    client.set_tag(run_id, "optuna.state", "COMPLETE")
    proc = run_cli("dnn-reproduce", run_id, cwd=store, check=0)
    new = client.get_run(proc.stdout.split()[2])
    assert new.info.experiment_id == run.info.experiment_id
    assert new.data.tags["reproduced_from"] == run_id
    assert "mlflow.parentRunId" not in new.data.tags
    assert not [k for k in new.data.tags if k.startswith("optuna.")]
    children = client.search_runs([run.info.experiment_id],
                                  f"tags.mlflow.parentRunId = '{parent}'")
    assert [r.info.run_id for r in children] == [run_id]


@pytest.mark.slow
def test_reproduce_refuses_a_foreign_target(tracked_run, tmp_path):
    store, run_id, _ = tracked_run
    client = client_of(store)
    bad = client.create_run(client.get_run(run_id).info.experiment_id)
    cfg = tmp_path / "config.yaml"
    cfg.write_text("data: {name: planar}\nevil:\n  _target_: os.system\n  command: echo hi\n")
    client.log_artifact(bad.info.run_id, str(cfg))
    proc = run_cli("dnn-reproduce", bad.info.run_id, cwd=store)
    assert proc.returncode == 2 and "refusing _target_ 'os.system'" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("args, message", [
    (["train.learning_rate=-0.1"], "train.learning_rate=-0.1: must be a number in (0, inf)"),
    (["model.hidden_units=[4,0]"], "model.hidden_units=[4, 0]: width 0 of layer 2"),
    (["model.activation=swish"], "model.activation='swish': must be one of"),
    (["train.num_iterations=ten"], "train.num_iterations"),
    (["+train.foo=1"], "foo"),
    (["train.foo=1"], "Key 'foo' not in 'TrainSettings'"),
    (["data=mnist"], "data=mnist: no such option"),
    (["data=cat"], "data.dir is not set"),
])
def test_bad_config_exits_2_and_creates_no_run(store, args, message):
    proc = run_cli("dnn-train", *args, cwd=store)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    db = store / "mlruns" / "mlflow.db"
    assert not db.exists() or not all_runs(client_of(store))


@pytest.mark.slow
def test_a_diverging_run_ends_failed(store):
    path = store / "huge.npz"
    rng = np.random.RandomState(0)
    np.savez(path, X=rng.randn(60, 3) * 1e300, y=rng.randint(0, 2, 60))
    proc = run_cli("dnn-train", "data=npz", f"data.path={path}", "data.standardize=false",
                   "model.activation=relu", "model.init=he", "train.num_iterations=50", cwd=store)
    assert proc.returncode == 1 and "diverged" in proc.stderr
    (run,) = all_runs(client_of(store))
    assert run.info.status == "FAILED" and "diverged" in run.data.tags["error"]


@pytest.mark.slow
def test_multirun_tracks_each_job_and_log_every_thins(store):
    proc = run_cli("dnn-train", "--multirun", "train.learning_rate=0.1,0.5",
                   "train.num_iterations=30", "tracking.log_every=10", cwd=store, check=0)
    runs = all_runs(client_of(store))
    assert sorted(r.data.params["train.learning_rate"] for r in runs) == ["0.1", "0.5"]
    # Each job is labelled with its overrides; a table of the jobs closes the output.
    out = proc.stdout.splitlines()
    assert "[job 0] train.learning_rate=0.1 train.num_iterations=30 tracking.log_every=10" in out
    table = out[out.index("2 job(s):") + 1:]
    assert "val_cost" in table[0] and "MLflow run" in table[0]
    by_id = {r.info.run_id: r for r in runs}
    for row, rate in zip(table[1:], ("0.1", "0.5")):
        run_id = row.split()[-1]
        assert f"train.learning_rate={rate}" in row
        assert by_id[run_id].data.params["train.learning_rate"] == rate
        assert f"{by_id[run_id].data.metrics['val_cost']:.5g}" in row
    # Hydra's per-job folders, empty, are not left behind.
    assert not [p for p in (store / "mlruns").rglob("*") if p.is_dir() and not any(p.iterdir())]
    steps = [m.step for m in client_of(store).get_metric_history(runs[0].info.run_id, "train_cost")]
    assert steps == [0, 10, 20, 29]


@pytest.mark.slow
def test_help_and_cfg_answer_without_tracking(store):
    proc = run_cli("dnn-train", "--help", cwd=store, check=0)
    assert "experiment=course_deep" in proc.stdout and "data: " in proc.stdout
    assert "search" not in proc.stdout  # dnn-sweep's groups, which dnn-train refuses
    cfg = run_cli("dnn-train", "--cfg", "job", "experiment=course_deep", cwd=store, check=0)
    assert "learning_rate: 0.0075" in cfg.stdout and "name: cat" in cfg.stdout
    assert not (store / "mlruns").exists()
