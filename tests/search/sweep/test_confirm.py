"""Confirmation runs on real stores: K x S child runs tagged confirm=true, not trials; the
refit follows the best confirmed mean; intervals and ties by hand."""
import math
import os
import socket

import optuna
import pytest
from hydra import compose, initialize_config_dir
from mlflow import MlflowClient
from scipy import stats

from search import links
from search.config import conf_dir
from search.study.study import check_sweep_config
from search.sweep.confirm import Confirmed, differs, rank


def sweep_config(tmp_path, *overrides):
    with initialize_config_dir(config_dir=conf_dir(), version_base="1.3"):
        return compose(config_name="sweep", overrides=[
            "data=moons", "search.study_name=moons",
            "~search.space.train.batch_size", "~search.space.train.optimizer",
            "~search.space.train.lambd", "~search.space.model", "train.num_iterations=300",
            "train.eval_every=100", "tracking.log_model=false",
            f"tracking.uri=sqlite:///{tmp_path}/mlflow.db",
            f"tracking.artifact_root={tmp_path}/artifacts",
            f"search.storage={tmp_path}/optuna.journal", *overrides])


def test_interval_and_ties_by_hand():
    c = Confirmed(3, [0.70, 0.74, 0.72])
    half = stats.t.ppf(0.975, 2) * 0.02 / math.sqrt(3)
    assert c.mean == pytest.approx(0.72) and c.interval == pytest.approx((0.72 - half, 0.72 + half))
    ranked = rank([Confirmed(1, [0.60, 0.61, 0.59]), c, Confirmed(2, [0.69, 0.75, 0.71])],
                  "maximize")
    assert [r.trial for r in ranked] == [3, 2, 1] and ranked[0].winner
    assert ranked[1].tied and not ranked[2].tied
    assert differs([0.60, 0.61, 0.59], [0.70, 0.74, 0.72])


@pytest.mark.slow
def test_confirmation_runs_count_k_times_s_and_the_refit_follows_the_confirmed_best(
        tmp_path, monkeypatch):
    from search.study.study import open_study
    from search.sweep.finish import finish
    from search.sweep.outcome import StudyOutcome
    from search.tracking.runs import ensure_parent_run

    cfg = sweep_config(tmp_path, "search.confirm.top_k=2", "search.confirm.seeds=2",
                       "search.refit=true")
    # MLflow sets this process's MLFLOW_TRACKING_URI; restore it for the tests that follow
    monkeypatch.setenv("MLFLOW_TRACKING_URI", cfg.tracking.uri)
    dims = check_sweep_config(cfg)
    study = open_study(cfg, dims)
    lr = optuna.distributions.FloatDistribution(1e-3, 1.0, log=True)
    # Trial 0 claims the best val_cost with a learning rate that learns next to nothing in
    # 300 iterations (a lucky draw); trial 1, second, learns. Confirmation exposes it.
    for value, rate in [(0.05, 0.001), (0.30, 0.5), (0.60, 0.002)]:
        study.add_trial(optuna.trial.create_trial(params={"train.learning_rate": rate},
                                                  distributions={"train.learning_rate": lr},
                                                  value=value))
    parent = ensure_parent_run(cfg.tracking, "moons", study, {}, _NoLock())
    client = MlflowClient(cfg.tracking.uri)
    experiment = client.get_experiment_by_name("moons").experiment_id
    # Another launcher of the study (a live process of this host) claimed the confirmation:
    # this one trains nothing and leaves the refit to it.
    study.set_user_attr(links.CONFIRMING, f"{socket.gethostname()}:{os.getppid()}")
    said = []
    outcome = StudyOutcome(study, ["val_cost"], parent, "FINISHED", "n_trials", "moons", "")
    finish(cfg, study, dims, [], parent, outcome, say=said.append)
    assert outcome.confirmed == [] and outcome.refit is None
    assert any(line.startswith("confirm: run by ") for line in said), said
    assert [r for r in client.search_runs([experiment]) if r.info.run_id != parent] == []
    study.set_user_attr(links.CONFIRMING, "")  # it ended without storing anything

    outcome = StudyOutcome(study, ["val_cost"], parent, "FINISHED", "n_trials", "moons", "")
    finish(cfg, study, dims, [], parent, outcome)
    assert study.user_attrs[links.CONFIRMING] == "", "the claim is released"

    assert [c.trial for c in outcome.confirmed] == [1, 0]
    assert outcome.refit["trial"] == 1
    runs = client.search_runs([experiment])
    confirm_runs = [r for r in runs if r.data.tags.get("confirm") == "true"]
    assert len(confirm_runs) == 2 * 2
    assert {r.data.params["train.seed"] for r in confirm_runs} == {"1001", "2001"}
    assert all(r.data.tags["mlflow.parentRunId"] == parent for r in confirm_runs)
    assert len(study.trials) == 3  # not Optuna trials
    refit = [r for r in runs if r.data.tags.get("refit") == "true"]
    assert [r.data.tags["optuna.trial_number"] for r in refit] == ["1"]
    parent_run = client.get_run(parent)
    assert parent_run.data.metrics["confirmed_val_cost"] == pytest.approx(outcome.confirmed[0].mean)
    assert parent_run.data.tags["dnnsweep.confirmed_trial"] == "1"
    # Run again: nothing is re-trained.
    finish(cfg, study, dims, [], parent, outcome)
    runs = client.search_runs([client.get_experiment_by_name("moons").experiment_id])
    assert len([r for r in runs if r.data.tags.get("confirm") == "true"]) == 4


class _NoLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
