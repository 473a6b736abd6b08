"""search/tracking/client.py against real temporary MLflow stores: experiments, tags, the
UI's addresses, and what a sweep leaves in the store (registered champion, metric names)."""
import getpass

import optuna
import pandas as pd
import pytest
from helpers import run_cli
from mlflow import MlflowClient
from omegaconf import OmegaConf
from optuna.storages.journal import JournalFileBackend, JournalStorage

from search.tracking import client as tracking
from search.tracking.runs import Tracker


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return OmegaConf.create({"uri": f"sqlite:///{tmp_path}/mlflow.db",
                             "artifact_root": str(tmp_path / "artifacts"),
                             "experiment": "e", "flush_seconds": 5.0, "register": None})


def test_experiments_open_on_their_runs_in_the_ui(cfg):
    client = tracking.client_for(cfg)
    new = tracking.experiment_id(client, "made-by-dnnsweep", cfg)
    assert client.get_experiment(new).tags["mlflow.experimentKind"] == "custom_model_development"
    # An experiment made without it (an older store) gets it when dnnsweep next uses it;
    # one whose kind the user chose in the UI keeps it.
    old = client.create_experiment("older")
    chosen = client.create_experiment("chosen", tags={"mlflow.experimentKind": "genai_development"})
    assert tracking.experiment_id(client, "older", cfg) == old
    assert tracking.experiment_id(client, "chosen", cfg) == chosen
    assert client.get_experiment(old).tags["mlflow.experimentKind"] == "custom_model_development"
    assert client.get_experiment(chosen).tags["mlflow.experimentKind"] == "genai_development"
    assert tracking.runs_url("http://127.0.0.1:5000/", new) == (
        f"http://127.0.0.1:5000/#/experiments/{new}/runs?workflowType=machine_learning")



def test_a_database_error_reaches_the_caller_alone_without_mlflows_traceback_log(cfg, tmp_path):
    """MLflow logs a SQLAlchemy OperationalError (a full disk, for one) with its traceback
    at ERROR before raising it; the raised error is reported in one line, the log is not."""
    import logging
    import sqlite3

    from mlflow.exceptions import MlflowException

    client = tracking.client_for(cfg)
    client.search_experiments()  # the store is made
    with sqlite3.connect(tmp_path / "mlflow.db") as db:  # an OperationalError on next read
        db.execute("ALTER TABLE experiments RENAME TO experiments_gone")
    records = []
    seen = logging.Handler()
    seen.emit = records.append
    logging.getLogger("mlflow.store.db.utils").addHandler(seen)
    try:
        with pytest.raises(MlflowException, match="no such table: experiments"):
            client.search_experiments()
    finally:
        logging.getLogger("mlflow.store.db.utils").removeHandler(seen)
    assert records == [], [r.getMessage()[:200] for r in records]

def test_runs_carry_mlflows_source_and_user(cfg, monkeypatch):
    monkeypatch.setattr("sys.argv", ["/usr/local/bin/dnn-sweep", "search.n_trials=3"])
    tracker = Tracker(cfg)
    run_id = tracker.start("r")
    tracker.end()
    tags = MlflowClient(cfg.uri).get_run(run_id).data.tags
    assert tags["mlflow.source.name"] == "dnn-sweep"
    assert tags["mlflow.source.type"] == "LOCAL"
    assert tags["mlflow.user"] == getpass.getuser()


def test_a_data_set_is_stored_as_mlflows_own_log_input_stores_it(cfg):
    """The reference: mlflow.log_input of the same data set, on a run of its own."""
    import mlflow
    import numpy as np
    from mlflow.entities import DatasetInput

    from search.tracking.runs import dataset_entity

    X = np.arange(12.0).reshape(3, 4)
    ds = mlflow.data.from_numpy(X.T, targets=np.array([[0, 1, 0, 1]]).T, name="d")
    client = tracking.client_for(cfg)
    exp = tracking.experiment_id(client, "e", cfg)
    ours = client.create_run(exp).info.run_id
    client.log_inputs(ours, [DatasetInput(dataset_entity(ds), [])])
    mlflow.set_tracking_uri(cfg.uri)
    with mlflow.start_run(experiment_id=exp) as run:
        mlflow.log_input(ds)
    stored = [client.get_run(r).inputs.dataset_inputs[0].dataset for r in (ours, run.info.run_id)]
    fields = ("name", "digest", "source_type", "source", "schema", "profile")
    assert [getattr(stored[0], f) for f in fields] == [getattr(stored[1], f) for f in fields]
    assert stored[0].schema and stored[0].profile


def test_browse_hint_names_the_local_ui_page(cfg):
    tracker = Tracker(cfg)
    run_id = tracker.start("r")
    tracker.end()
    exp = MlflowClient(cfg.uri).get_run(run_id).info.experiment_id
    assert tracking.browse_hint(cfg, run_id) == (
        f"dnn-ui, then http://127.0.0.1:5000/#/experiments/{exp}/runs?workflowType=machine_learning")


@pytest.mark.slow
def test_a_refit_sweep_registers_its_champion_and_names_its_metrics(tmp_path):
    proc = run_cli("dnn-sweep", "search.n_trials=2", "search.workers=1", "train.num_iterations=40",
                   "search.refit=true",
                   "search.study_name=flower", cwd=tmp_path, env={"MLFLOW_TRACKING_URI": None},
                   check=0)
    assert "registered model: models:/flower@champion" in proc.stdout, proc.stdout
    assert (f"serve it: MLFLOW_TRACKING_URI=sqlite:///{tmp_path.resolve()}/mlruns/mlflow.db "
            "mlflow models serve -m models:/flower@champion --env-manager local") in proc.stdout
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "mlruns" / "optuna.journal")))
    study = optuna.load_study(study_name="flower", storage=storage)
    assert study.metric_names == ["val_cost"]
    client = MlflowClient(f"sqlite:///{tmp_path}/mlruns/mlflow.db")
    champion = client.get_model_version_by_alias("flower", "champion")
    refit = client.get_run(champion.run_id)
    assert refit.data.tags["refit"] == "true"
    assert study.user_attrs["refit"]["run_id"] == champion.run_id
    assert [f"models:/{o.model_id}" for o in refit.outputs.model_outputs] == [champion.source]
    # trials.csv on the parent run: Optuna's frame, named by the metric, typed.
    parent = study.user_attrs["mlflow_parent_run_id"]
    path = client.download_artifacts(parent, "trials.csv", str(tmp_path))
    df = pd.read_csv(path)
    assert {"number", "state", "value_val_cost", "duration_s", "mlflow_run_id",
            "val_accuracy", "params_model.hidden_units.depth"} <= set(df.columns)
    assert "value" not in df.columns and "values_0" not in df.columns
    assert str(df["params_model.hidden_units.depth"].dtype) == "int64"
    assert set(df["mlflow_run_id"]) == {t.user_attrs["mlflow_run_id"] for t in study.trials}
    # The last line says where to look: the experiment's runs page.
    exp = client.get_experiment_by_name("flower").experiment_id
    assert f"/#/experiments/{exp}/runs?workflowType=machine_learning" in proc.stdout
    assert "INFO" not in proc.stderr and "alembic" not in proc.stderr, proc.stderr
    # What happens is said from the start, before a new store's tables are made.
    first, *following = proc.stdout.splitlines()
    assert first == "study 'flower': checking the config and the data ...", proc.stdout
    opening = next(i for i, line in enumerate(following)
                   if line.startswith("study 'flower': opening it and the MLflow store (a new"))
    assert all(line.startswith("space fitted to the data: ") for line in following[:opening])


def test_params_tags_and_points_past_one_batchs_limits_are_all_stored(cfg):
    """They wait in the tracker and go out in batches within MLflow's limits (100 params,
    100 tags, 1000 metrics, 1000 items a call)."""
    tracker = Tracker(cfg)
    run_id = tracker.start("many")
    tracker.log_params({f"p{i}": i for i in range(250)})
    tracker.set_tags({f"t{i}": str(i) for i in range(130)})
    for step in range(2500):
        tracker.metric("train_cost", 1.0 / (step + 1), step)
    tracker.end(tags={"last": "yes"})
    client = MlflowClient(cfg.uri)
    run = client.get_run(run_id)
    assert run.data.params == {f"p{i}": str(i) for i in range(250)}
    assert {f"t{i}": str(i) for i in range(130)}.items() <= run.data.tags.items()
    assert run.data.tags["last"] == "yes"
    steps = [m.step for m in client.get_metric_history(run_id, "train_cost")]
    assert sorted(steps) == list(range(2500))
    assert run.info.status == "FINISHED"


@pytest.mark.parametrize("status", ["FINISHED", "KILLED"])
def test_a_thinned_history_keeps_its_last_point_and_the_whole_curve_beside_it(cfg, status):
    """tracking.history_points: MLflow's history holds about that many points of each
    metric and its last; every point is in the run's history.npz, which metric_history and
    histories read (a pruned run, stopped before its artifacts, has it too)."""
    cfg.history_points = 10
    tracker = Tracker(cfg)
    run_id = tracker.start("thinned")
    tracker.plan_steps(1000)
    stop = 1000 if status == "FINISHED" else 537
    costs = [1.0 / (step + 1) ** 0.5 for step in range(stop)]
    for step, cost in enumerate(costs):
        tracker.metric("train_cost", cost, step)
        if step % 50 == 0:
            tracker.metric("val_cost", 2 * cost, step)
    if status == "FINISHED":
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            tracker.log_artifacts(tracker.save_history(tmp).parent)
    tracker.end(status)
    client = MlflowClient(cfg.uri)
    stored = sorted(m.step for m in client.get_metric_history(run_id, "train_cost"))
    assert len(stored) <= 12 and stored[0] == 0 and stored[-1] == stop - 1, stored
    assert tracking.metric_history(client, run_id, "train_cost") == list(enumerate(costs))
    whole = tracking.histories(client, run_id, ["train_cost", "val_cost"])
    assert whole["val_cost"] == [(s, 2 * costs[s]) for s in range(0, stop, 50)]
    assert client.get_run(run_id).info.status == status


def test_without_history_points_every_point_is_in_mlflow_and_no_history_file(cfg):
    tracker = Tracker(cfg)
    run_id = tracker.start("whole")
    tracker.plan_steps(300)
    for step in range(300):
        tracker.metric("train_cost", 1.0 / (step + 1), step)
    tracker.end()
    client = MlflowClient(cfg.uri)
    assert len(client.get_metric_history(run_id, "train_cost")) == 300
    assert client.list_artifacts(run_id) == []
    assert tracking.metric_history(client, run_id, "train_cost")[-1] == (299, 1.0 / 300)
