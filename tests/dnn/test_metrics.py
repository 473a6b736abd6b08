"""dnn.metrics against scikit-learn on the same predictions, and in dnn.evaluate; every
entry of the score table (its baseline and its resampled score) against scikit-learn."""
import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    log_loss,
    roc_auc_score,
)

from dnn import evaluate, fit
from dnn.data import one_hot
from dnn.metrics import (
    SCORES,
    balanced_accuracy,
    binary_auc,
    cross_entropy,
    resampled_scores,
    roc_auc,
    scores,
)


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


def _proba(AL):
    """scikit-learn's layout: (m,) positive-class scores or (m, n_classes)."""
    return AL[0] if AL.shape[0] == 1 else AL.T


def _predicted(AL):
    return (AL[0] > 0.5).astype(int) if AL.shape[0] == 1 else AL.argmax(axis=0)


# scikit-learn's score of labels y (m,) and outputs AL (n_y, m): the reference of each entry
# of the score table. A new score needs its reference here.
REFERENCE = {
    "cost": lambda y, AL: log_loss(y, _proba(AL), labels=range(max(2, AL.shape[0]))),
    "accuracy": lambda y, AL: accuracy_score(y, _predicted(AL)),
    "balanced_accuracy": lambda y, AL: balanced_accuracy_score(y, _predicted(AL)),
    "auc": lambda y, AL: roc_auc_score(y, _proba(AL), multi_class="ovr", average="macro"),
}
CASES = [binary_case(0), binary_case(1, ties=True), softmax_case(2), softmax_case(3, k=3)]


def test_every_score_of_the_table_has_a_reference():
    assert set(REFERENCE) == set(SCORES)
    for name, score in SCORES.items():
        assert score.direction == ("maximize" if score.higher_is_better else "minimize")
        assert score.meaning and score.baseline_predicts, name


@pytest.mark.parametrize("case", range(len(CASES)))
def test_scores_are_every_score_of_the_table_but_the_network_cost(case):
    Y, AL = CASES[case]
    got, y = scores(Y, AL), Y.argmax(axis=0) if Y.shape[0] > 1 else Y[0].astype(int)
    assert list(got) == [name for name, s in SCORES.items() if s.value is not None]
    for name, value in got.items():
        assert value == pytest.approx(REFERENCE[name](y, AL), abs=1e-12), name


@pytest.mark.parametrize("name", list(SCORES))
@pytest.mark.parametrize("seed", range(3))
def test_a_baseline_is_the_score_of_scikit_learns_prior_dummy(name, seed):
    rng = np.random.RandomState(seed)
    y_fit, y_eval = rng.choice(3, 50, p=[0.5, 0.3, 0.2]), rng.choice(3, 20, p=[0.2, 0.3, 0.5])
    dummy = DummyClassifier(strategy="prior").fit(np.zeros((50, 1)), y_fit)
    AL = dummy.predict_proba(np.zeros((20, 1))).T  # (3, 20): the same prior in every column
    prior = np.bincount(y_fit, minlength=3) / y_fit.size
    assert SCORES[name].baseline(prior, y_eval) == pytest.approx(REFERENCE[name](y_eval, AL),
                                                                 abs=1e-12)


@pytest.mark.parametrize("case", range(len(CASES)))
def test_a_resampled_score_is_the_score_of_the_examples_drawn(case):
    Y, AL = CASES[case]
    y, m = (Y.argmax(axis=0) if Y.shape[0] > 1 else Y[0].astype(int)), Y.shape[1]
    rng = np.random.RandomState(case)
    W = rng.multinomial(m, np.full(m, 1.0 / m), size=5).astype(float)  # (5, m) counts
    got = resampled_scores(W, y, AL)
    assert set(got) == set(SCORES)
    for b, counts in enumerate(W.astype(int)):
        drawn = np.repeat(np.arange(m), counts)  # each example as often as it was drawn
        for name, values in got.items():
            assert values[b] == pytest.approx(REFERENCE[name](y[drawn], AL[:, drawn]),
                                              abs=1e-12), name


def test_the_cross_entropy_of_probabilities_is_scikit_learns_log_loss_and_stays_finite():
    rng = np.random.RandomState(0)
    AL = rng.dirichlet(np.ones(3), size=50).T  # (3, 50) probabilities
    y = rng.randint(3, size=50)
    Y = np.eye(3)[:, y]  # one-hot columns
    assert cross_entropy(Y, AL) == pytest.approx(log_loss(y, AL.T), rel=1e-12)
    p = rng.uniform(size=(1, 50))
    assert cross_entropy(y[None, :] % 2, p) == pytest.approx(log_loss(y % 2, p[0]), rel=1e-12)
    zero = np.array([[0.0, 1.0]], dtype=np.float32)  # the true class of the first: p = 0
    assert np.isfinite(cross_entropy(np.array([[1, 1]]), zero))
