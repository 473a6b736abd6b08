"""A resumed study with another sampler or pruner: the parent run's params show them."""
from mlflow import MlflowClient
from omegaconf import OmegaConf

from search.tracking.settings_log import log_changed_settings


def test_a_changed_sampler_is_logged_as_resumed_params_and_tags(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    tracking = OmegaConf.create({"uri": f"sqlite:///{tmp_path}/m.db", "artifact_root": None})
    client = MlflowClient(tracking.uri)
    run = client.create_run(client.create_experiment("e")).info.run_id
    first = {"search.sampler._target_": "optuna.samplers.TPESampler",
             "search.sampler.seed": 0, "search.pruner._target_": "optuna.pruners.MedianPruner",
             "search.n_trials": 60}
    for k, v in first.items():
        client.log_param(run, k, v)
    assert log_changed_settings(tracking, run, first) is None  # same settings: nothing new
    second = {**first, "search.sampler._target_": "optuna.samplers.RandomSampler"}
    assert log_changed_settings(tracking, run, second) == 1
    assert log_changed_settings(tracking, run, second) is None  # logged once
    third = {**first, "search.pruner._target_": "optuna.pruners.NopPruner"}
    assert log_changed_settings(tracking, run, third) == 2
    data = client.get_run(run).data
    assert data.params["search.sampler._target_"] == "optuna.samplers.TPESampler"
    assert data.params["resumed.1.search.sampler._target_"] == "optuna.samplers.RandomSampler"
    assert data.params["resumed.2.search.pruner._target_"] == "optuna.pruners.NopPruner"
    assert "resumed.1.search.n_trials" not in data.params
    assert data.tags["dnnsweep.sampler"] == "optuna.samplers.TPESampler"
    assert data.tags["dnnsweep.pruner"] == "optuna.pruners.NopPruner"
