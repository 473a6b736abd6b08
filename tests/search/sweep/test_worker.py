"""One sweep worker's trial (search.sweep.worker.run_trial), in-process on real stores: a
journal file and an MLflow SQLite store in tmp_path."""
import optuna
import pytest
from hydra import compose, initialize_config_dir
from mlflow import MlflowClient

from search import links
from search.config import conf_dir
from search.study.study import open_study
from search.sweep.worker import pruning_hook, run_trial
from search.tracking.client import client_for

S = optuna.trial.TrialState


@pytest.fixture
def sweep_cfg(tmp_path):
    with initialize_config_dir(conf_dir(), version_base="1.3"):
        return compose("sweep", overrides=[
            f"search.storage={tmp_path}/optuna.journal",
            f"tracking.uri=sqlite:///{tmp_path}/mlflow.db",
            f"tracking.artifact_root={tmp_path}/artifacts", "search/sampler=random",
            "search/pruner=none", "search.retry_failed=false", "train.num_iterations=5",
            "tracking.log_model=false"])


def runs_left_running(tmp_path):
    client = MlflowClient(f"sqlite:///{tmp_path}/mlflow.db")
    return [r.info.run_id for e in client.search_experiments()
            for r in client.search_runs([e.experiment_id]) if r.info.status == "RUNNING"]


def one_trial(cfg, dims):
    study = open_study(cfg, dims)
    trial = study.ask()
    run_trial(study, trial, cfg, dims, [], parent_run_id=None)
    return links.frozen_trial(study, trial.number)


LR = {"type": "float", "low": 1e-3, "high": 1.0, "log": True}


@pytest.mark.parametrize("case", ["high=inf", "kind changed"])
def test_an_error_while_sampling_fails_the_trial_with_its_reason(sweep_cfg, tmp_path, case):
    client_for(sweep_cfg.tracking)  # the MLflow store exists, as in a sweep
    if case == "high=inf":  # Optuna's uniform draw overflows: OverflowError
        dims = {"train.learning_rate": {"type": "float", "low": 1e-3, "high": float("inf")}}
        expected = "OverflowError"
    else:  # the study sampled it as a float; this launcher's space says categorical
        done = one_trial(sweep_cfg, {"train.learning_rate": LR})
        assert done.state == S.COMPLETE, done.user_attrs
        dims = {"train.learning_rate": {"type": "categorical", "choices": [0.1, 0.01]}}
        expected = "distribution"
    trial = one_trial(sweep_cfg, dims)
    assert trial.state == S.FAIL
    assert expected in trial.user_attrs[links.FAIL_REASON]
    assert links.trial_run_id(trial) is None, "it failed before its run was opened"
    assert not runs_left_running(tmp_path)


def test_a_trial_longer_than_100_passes_reports_each_percent_once(recwarn):
    """200 epochs: two passes a percent. Each percent step is reported once, with the value
    of its first pass, and Optuna is never asked to overwrite a step (it would warn at every
    other pass: hundreds of lines on a sweep's terminal)."""
    study = optuna.create_study()
    trial = study.ask()
    on_step = pruning_hook(trial, "val_cost", can_prune=True, ceiling=200)
    for i in range(200):
        on_step(i, 1.0, {"val_cost": 1.0 / (i + 1)})
    assert not [w for w in recwarn if "already reported" in str(w.message)]
    steps = study.trials[0].intermediate_values
    assert sorted(steps) == list(range(0, 101))
    assert steps[1] == pytest.approx(1.0 / 2) and steps[100] == pytest.approx(1.0 / 200)
