"""The verdict: the corrected paired t-test by hand, the single-split z test, and studies on
real stores whose labels are noise (not better) or digits (better)."""
import math

import numpy as np
import optuna
import pytest
from helpers import run_cli
from mlflow import MlflowClient
from scipy import stats

from search.sweep.verdict import BETTER, NOT_BETTER, paired_fold_test, single_split_test


def test_the_paired_test_is_nadeau_and_bengios_corrected_t_test():
    scores, base = [0.71, 0.66, 0.70, 0.64, 0.69], [0.65] * 5
    v = paired_fold_test("val_accuracy", "maximize", scores, base, folds=5)
    d = np.subtract(scores, base)
    t = d.mean() / math.sqrt((1 / 5 + 1 / 4) * d.var(ddof=1))
    assert v.margin == pytest.approx(d.mean()) and v.n == 5
    assert v.p_value == pytest.approx(stats.t.sf(t, 4))
    # the plain paired t-test would call this significant; the corrected one does not
    assert stats.ttest_rel(scores, base, alternative="greater").pvalue < 0.05
    assert v.p_value > 0.05 and v.label == NOT_BETTER


def test_a_cost_is_better_when_lower():
    v = paired_fold_test("val_cost", "minimize", [0.30, 0.31, 0.29, 0.30], [0.69] * 4, folds=4)
    assert v.margin == pytest.approx(0.39) and v.label == BETTER
    assert "is better than a model that learns nothing" in v.sentence()


def test_without_folds_the_margin_is_weighed_against_the_bootstrap_spread():
    assert single_split_test("val_auc", "maximize", 0.60, 0.5, 0.08, 40).label == NOT_BETTER
    v = single_split_test("val_auc", "maximize", 0.80, 0.5, 0.08, 40)
    assert v.label == BETTER and v.p_value == pytest.approx(stats.norm.sf(0.30 / 0.08))


QUICK = ["~search.space.train.batch_size",
         "~search.space.train.optimizer", "train.optimizer=adam", "train.eval_every=50",
         "search.space.model.hidden_units.depth_high=1",
         "search.space.model.hidden_units.units_high=8", "search.space.train.learning_rate.low=0.003",
         "search.space.train.learning_rate.high=0.03", "search/pruner=none", "search.workers=1",
         "tracking.log_model=false", "search.cv.folds=5"]


def parent_of(cwd, experiment):
    client = MlflowClient(f"sqlite:///{cwd}/mlruns/mlflow.db")
    exp = client.get_experiment_by_name(experiment)
    return [r for r in client.search_runs([exp.experiment_id])
            if r.data.tags.get("dnnsweep.role") == "study"][0]


@pytest.mark.slow
def test_a_study_on_noise_is_not_better_and_one_on_digits_is(tmp_path):
    rng = np.random.RandomState(0)
    np.savez(tmp_path / "noise.npz", X=rng.randn(150, 6), y=rng.randint(0, 2, 150))
    noise = run_cli("dnn-sweep", *QUICK, "data=npz", f"data.path={tmp_path / 'noise.npz'}",
                    "data.standardize=true", "search.study_name=noise", "search.n_trials=3",
                    "train.num_iterations=300", cwd=tmp_path, env={"MLFLOW_TRACKING_URI": ""},
                    check=0)
    parent = parent_of(tmp_path, "noise")
    assert parent.data.tags["dnnsweep.verdict"] == NOT_BETTER
    assert "is not better than a model that learns nothing" in noise.stdout
    assert "baseline_val_cost" in parent.data.metrics
    assert parent.data.params["split.fold_1"].startswith("30: ")

    digits = run_cli("dnn-sweep", *QUICK, "data=digits", "search.study_name=digits",
                     "search.n_trials=2", "train.num_iterations=100", "search.metric=val_auc",
                     "search.direction=maximize", cwd=tmp_path, env={"MLFLOW_TRACKING_URI": ""},
                     check=0)
    parent = parent_of(tmp_path, "digits")
    assert parent.data.tags["dnnsweep.verdict"] == BETTER
    assert parent.data.metrics["baseline_val_auc"] == 0.5
    assert "is better than a model that learns nothing" in digits.stdout
    # every trial's run carries the baselines of the same folds and the new scores
    study = optuna.load_study(study_name="digits", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / "mlruns/optuna.journal"))))
    client = MlflowClient(f"sqlite:///{tmp_path}/mlruns/mlflow.db")
    run = client.get_run(study.best_trial.user_attrs["mlflow_run_id"])
    assert run.data.metrics["baseline_val_accuracy"] == parent.data.metrics["baseline_val_accuracy"]
    assert {"val_auc", "val_auc_std", "val_balanced_accuracy", "fold_3/val_auc"} <= \
        set(run.data.metrics)
    assert len(client.get_metric_history(run.info.run_id, "val_auc")) > 1  # a curve
