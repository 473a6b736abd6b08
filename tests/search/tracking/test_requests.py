"""What one run sends to a real `mlflow server` (127.0.0.1, SQLite backend, artifacts
served by the server), seen through a counting proxy: how many requests a sweep's trial
costs, and that a batch sent again by the client's retry stores no point twice."""
import optuna
import pytest
from hydra import compose, initialize_config_dir
from http_proxy import proxy_to
from mlflow import MlflowClient
from omegaconf import OmegaConf
from pg_helpers import mlflow_server

from search import links
from search.config import conf_dir
from search.study.study import open_study
from search.sweep.worker import run_trial
from search.tracking.runs import Tracker

# An `mlflow server` to start (15 s on a busy machine), once for the module: its tests share
# one xdist worker, which a module-scoped fixture does not ask for by itself.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("mlflow-server-requests")]

REQUESTS_PER_TRIAL = 10  # the goal: a tracking server serves many workers


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mlflow-server")
    with mlflow_server(f"sqlite:///{folder}/mlflow.db", folder) as uri:
        yield uri


@pytest.fixture
def proxied(server, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with proxy_to(server) as (proxy, uri):
        yield proxy, uri


def sweep_cfg(tmp_path, uri, *overrides):
    with initialize_config_dir(conf_dir(), version_base="1.3"):
        return compose("sweep", overrides=[
            f"search.storage={tmp_path}/optuna.journal", f"tracking.uri={uri}",
            f"search.study_name=requests-{tmp_path.name}", "search/sampler=random",
            "search/pruner=none", "train.num_iterations=10", *overrides])


def test_a_trial_sends_at_most_ten_requests(proxied, tmp_path):
    proxy, uri = proxied
    # The defaults (no model, no plot per trial); a run longer than tracking.flush_seconds
    # adds one batch per period (live curves): kept out of the count on a busy machine.
    cfg = sweep_cfg(tmp_path, uri, "tracking.flush_seconds=600")
    dims = {"train.learning_rate": {"type": "float", "low": 1e-3, "high": 1.0, "log": True}}
    study = open_study(cfg, dims)
    run_trial(study, study.ask(), cfg, dims, [], parent_run_id=None)  # the experiment is made
    before = len(proxy.requests)
    trial = study.ask()
    run_trial(study, trial, cfg, dims, [], parent_run_id=None)
    sent = proxy.requests[before:]
    assert len(sent) <= REQUESTS_PER_TRIAL, "\n".join(f"{m} {p}" for m, p in sent)
    # ... and the run holds all it held before.
    run = MlflowClient(uri).get_run(links.trial_run_id(links.frozen_trial(study, trial.number)))
    assert run.info.status == "FINISHED"
    assert run.data.tags["optuna.state"] == "COMPLETE"
    assert run.data.params["train.num_iterations"] == "10"
    assert run.data.params["train.learning_rate"] == str(trial.params["train.learning_rate"])
    assert {"train_cost", "val_cost", "train_accuracy", "baseline_val_cost"} <= \
        set(run.data.metrics)
    assert len(run.inputs.dataset_inputs) == 1
    files = {a.path for a in MlflowClient(uri).list_artifacts(run.info.run_id)}
    assert {"config.yaml", "overrides.yaml", "parameters.npz"} <= files


@pytest.mark.parametrize("fault", ["503", "drop"])
def test_a_batch_sent_again_by_the_clients_retry_stores_each_point_once(proxied, fault):
    """The server stores a batch, its answer is lost (a 503 from a gateway, a dropped
    connection); MLflow's client sends the same batch again."""
    proxy, uri = proxied
    cfg = OmegaConf.create({"uri": uri, "artifact_root": None, "experiment": f"retry-{fault}",
                            "flush_seconds": 3600.0, "register": None})
    tracker = Tracker(cfg)
    run_id = tracker.start("retried")
    proxy.fail("/runs/log-batch", fault)
    tracker.log_params({"a": 1})
    for step in range(1500):  # a full buffer is sent while training, the rest at the end
        tracker.metric("train_cost", 1.0 / (step + 1), step)
    tracker.end()
    [lost] = proxy.faulted
    assert proxy.requests[lost + 1] == proxy.requests[lost], "the client sent it again"
    assert proxy.bodies[lost + 1] == proxy.bodies[lost]
    history = MlflowClient(uri).get_metric_history(run_id, "train_cost")
    assert sorted(m.step for m in history) == list(range(1500))
    assert MlflowClient(uri).get_run(run_id).data.params == {"a": "1"}
