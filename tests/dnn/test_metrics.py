"""dnn.metrics against scikit-learn on the same predictions, and in dnn.evaluate."""
import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score

from dnn import evaluate, fit
from dnn.data import one_hot
from dnn.metrics import balanced_accuracy, binary_auc, roc_auc, scores


def binary_case(seed, m=60, ties=False):
    rng = np.random.RandomState(seed)
    y = (rng.rand(m) < 0.3).astype(int)
    p = rng.rand(m) * 0.6 + 0.3 * y
    if ties:
        p = np.round(p, 1)  # many equal scores
    return y[None, :].astype(float), p[None, :]


def softmax_case(seed, m=90, k=4):
    rng = np.random.RandomState(seed)
    y = rng.randint(0, k, m)
    Z = rng.randn(k, m) + 1.5 * one_hot(y, k)
    AL = np.exp(Z) / np.exp(Z).sum(axis=0)
    return one_hot(y, k), AL


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("ties", [False, True])
def test_binary_scores_equal_scikit_learns(seed, ties):
    Y, AL = binary_case(seed, ties=ties)
    y, pred = Y[0].astype(int), (AL[0] > 0.5).astype(int)
    got = scores(Y, AL)
    assert got["auc"] == pytest.approx(roc_auc_score(y, AL[0]), abs=1e-12)
    assert got["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, pred), abs=1e-12)
    assert got["accuracy"] == pytest.approx(accuracy_score(y, pred), abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_softmax_scores_equal_scikit_learns_one_vs_rest_macro(seed):
    Y, AL = softmax_case(seed)
    y, pred = Y.argmax(axis=0), AL.argmax(axis=0)
    got = scores(Y, AL)
    assert got["auc"] == pytest.approx(
        roc_auc_score(y, AL.T, multi_class="ovr", average="macro"), abs=1e-12)
    assert got["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, pred), abs=1e-12)


def test_constant_outputs_score_one_half_and_one_over_k():
    Y, _ = binary_case(0)
    assert roc_auc(Y, np.full(Y.shape, 0.3)) == 0.5
    assert balanced_accuracy(Y[0], np.zeros(Y.shape[1])) == 0.5
    Y3, _ = softmax_case(0, k=3)
    assert balanced_accuracy(Y3.argmax(axis=0), np.ones(Y3.shape[1])) == pytest.approx(1 / 3)


def test_auc_is_nan_when_one_class_is_absent():
    assert np.isnan(binary_auc(np.ones(5, bool), np.arange(5.0)))


def test_evaluate_reports_the_new_scores_of_a_trained_network():
    rng = np.random.RandomState(3)
    X = rng.randn(3, 80)
    Y = (X[0:1] + 0.5 * rng.randn(1, 80) > 0.4).astype(float)
    parameters, _ = fit(X, Y, hidden_units=[4], activation="tanh", init="xavier",
                        learning_rate=0.3, num_iterations=200)
    from dnn import predict_proba

    AL = predict_proba(X, parameters, "tanh")[0]
    got = evaluate(parameters, X, Y, "tanh", "val_")
    assert set(got) == {"val_cost", "val_accuracy", "val_balanced_accuracy", "val_auc"}
    assert got["val_auc"] == pytest.approx(roc_auc_score(Y[0], AL), abs=1e-12)
    assert got["val_balanced_accuracy"] == pytest.approx(
        balanced_accuracy_score(Y[0], (AL > 0.5).astype(int)), abs=1e-12)
