"""Baselines of a protocol against hand-computed values and scikit-learn's DummyClassifier;
class counts per split and the train/test prior shift."""
import math

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.metrics import balanced_accuracy_score, log_loss, roc_auc_score

from dnn.data import load_dataset
from search.run.baseline import (
    class_counts,
    data_summary,
    prior_scores,
    prior_shift,
    refit_baselines,
    run_baselines,
    split_params,
)
from search.run.cv import fold_splits, training_pool


def test_prior_scores_equal_hand_computed_values():
    # fitted on 3 of class 0 and 1 of class 1: prior (0.75, 0.25), majority 0
    got = prior_scores([0, 0, 0, 1], [0, 1, 1], 2)
    assert got["cost"] == pytest.approx(-(math.log(0.75) + 2 * math.log(0.25)) / 3)
    assert got["accuracy"] == pytest.approx(1 / 3)
    assert got["balanced_accuracy"] == 0.5 and got["auc"] == 0.5


@pytest.mark.parametrize("seed", range(3))
def test_prior_scores_equal_a_dummy_classifier_of_scikit_learn(seed):
    rng = np.random.RandomState(seed)
    y_fit, y_eval = rng.choice(3, 50, p=[0.5, 0.3, 0.2]), rng.choice(3, 20, p=[0.2, 0.3, 0.5])
    dummy = DummyClassifier(strategy="prior").fit(np.zeros((50, 1)), y_fit)
    proba = dummy.predict_proba(np.zeros((20, 1)))
    got = prior_scores(y_fit, y_eval, 3)
    assert got["cost"] == pytest.approx(log_loss(y_eval, proba, labels=[0, 1, 2]), abs=1e-12)
    assert got["accuracy"] == pytest.approx(dummy.score(np.zeros((20, 1)), y_eval))
    assert got["balanced_accuracy"] == pytest.approx(
        balanced_accuracy_score(y_eval, dummy.predict(np.zeros((20, 1)))))
    assert got["auc"] == pytest.approx(roc_auc_score(y_eval, proba, multi_class="ovr"))


def test_cross_validated_baselines_use_the_trials_folds():
    data = load_dataset("moons", n_samples=103, val_fraction=0.2, seed=3)
    base = run_baselines(data, folds=4, repeats=2, data_seed=3)
    _, _, y = training_pool(data)
    splits = fold_splits(y, 4, 2, 3)
    assert sorted(base.folds) == sorted(name for name, _, _ in splits)
    for name, tr, va in splits:
        p1 = y[tr].mean()
        hand = -np.mean(np.where(y[va] == 1, np.log(p1), np.log(1 - p1)))
        assert base.folds[name]["val_cost"] == pytest.approx(hand)
        majority = int(p1 > 0.5)
        assert base.folds[name]["val_accuracy"] == pytest.approx(np.mean(y[va] == majority))
    assert base.values["val_accuracy"] == pytest.approx(
        np.mean([f["val_accuracy"] for f in base.folds.values()]))
    assert base.values["val_auc"] == 0.5


def test_single_split_baselines_fit_on_train_and_score_validation():
    data = load_dataset("digits", val_fraction=0.2, seed=1)
    base = run_baselines(data).values
    counts = np.bincount(data.y_train, minlength=10)
    y_val = data.Y_val.argmax(axis=0)
    assert base["val_accuracy"] == pytest.approx(np.mean(y_val == counts.argmax()))
    assert base["train_accuracy"] == pytest.approx(counts.max() / counts.sum())
    assert base["val_balanced_accuracy"] == pytest.approx(0.1)


@pytest.fixture
def shifted(tmp_path):
    """Training data 30% class 1, test data 70% class 1, as the course's cat data."""
    X, y = np.zeros((100, 2)), np.r_[np.ones(30), np.zeros(70)].astype(int)
    Xt, yt = np.zeros((20, 2)), np.r_[np.ones(14), np.zeros(6)].astype(int)
    path = tmp_path / "shifted.npz"
    np.savez(path, X=X, y=y, X_test=Xt, y_test=yt)
    return load_dataset("npz", path=str(path), val_fraction=0.2, seed=1)


def test_class_counts_per_split_and_the_prior_shift(shifted):
    counts = class_counts(shifted)
    assert counts["train"].tolist() == [56, 24] and counts["val"].tolist() == [14, 6]
    assert counts["test"].tolist() == [6, 14]
    cv = class_counts(shifted, folds=5)
    assert cv["train"].tolist() == [70, 30] and [cv[f"fold_{k}"].sum() for k in range(1, 6)] \
        == [20] * 5
    points, name, train, test = prior_shift(shifted)
    assert (round(points), name, round(train), round(test)) == (40, "0", 70, 30)
    assert split_params(shifted)["split.test"] == "20: 0 6 (30.0%), 1 14 (70.0%)"
    assert data_summary(shifted).lines()[0] == "train  80: 0 56 (70.0%), 1 24 (30.0%)"
    # the refit's protocol: fitted on all training data, scored on the test split
    assert refit_baselines(shifted)["test_accuracy"] == pytest.approx(0.3)


def test_no_shift_line_within_ten_points():
    assert prior_shift(load_dataset("moons", val_fraction=0.2)) is None
