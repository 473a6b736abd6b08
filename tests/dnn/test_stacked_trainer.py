"""StackedTrainer: each fold's curve equals dnn.Trainer on that fold alone (1e-10 over 100
iterations in float64), with mini-batches (each fold's own shuffles, folds of unequal
batch counts), dropout, L2 and every optimizer, on both paths of the first layer (dense,
and span: dnn/span.py)."""
from dataclasses import replace

import numpy as np
import pytest

from dnn import DivergenceError, ModelSettings, Trainer, TrainSettings
from dnn.stacked_trainer import StackedTrainer

M = 61


def folds(Y, k=5):
    rng = np.random.RandomState(3)
    held_out = np.array_split(rng.permutation(Y.shape[1]), k)
    train = [np.sort(np.concatenate([h for j, h in enumerate(held_out) if j != f]))
             for f in range(k)]
    return train, [np.sort(h) for h in held_out]


def data(output):
    rng = np.random.RandomState(0)
    X = rng.randn(8, M)
    y = (X[0] * X[1] > 0).astype(int) + (output == "softmax") * (X[2] > 0.5)
    Y = y[None].astype(float) if output == "sigmoid" else np.eye(3)[:, y]
    return X, Y


def run_both(X, Y, model, train, seeds, iterations, first_layer=None):
    tr, va = folds(Y)
    stacked = StackedTrainer(X, Y, tr, model, train, seeds, va, first_layer)
    alone = [Trainer(X[:, t], Y[:, t], model, replace(train, seed=s), (X[:, v], Y[:, v]))
             for t, v, s in zip(tr, va, seeds)]
    for t in alone:  # the folds are evaluated together, on the largest fold's period
        t.eval_period = stacked.eval_period
    rows = []
    for _ in range(iterations):
        costs, metrics = stacked.step()
        rows.append((costs, metrics, [t.step() for t in alone]))
    return stacked, alone, rows


CASES = [  # (activation, output, optimizer, batch_size, keep_prob, lambd)
    ("relu", "sigmoid", "gd", None, 1.0, 0.0),
    ("tanh", "softmax", "gd", None, 0.8, 0.2),
    ("leaky_relu", "sigmoid", "momentum", 16, 1.0, 0.5),
    ("sigmoid", "softmax", "adam", 16, 0.9, 0.0),
    ("relu", "softmax", "adam", 25, 0.7, 0.1),  # 48 or 49 columns: 2 or 3 batches a fold
    ("tanh", "sigmoid", "adam", 48, 0.8, 0.0),  # the 48-column fold in one unshuffled batch
    ("relu", "sigmoid", "adam", None, 1.0, 0.3),
    ("relu", "softmax", "gd", 12, 1.0, 0.0),  # 4 batches of the 48-column fold, 5 of others
]


@pytest.mark.parametrize("activation, output, optimizer, batch_size, keep_prob, lambd", CASES)
def test_fold_curves_equal_each_fold_trained_alone(activation, output, optimizer, batch_size,
                                                   keep_prob, lambd):
    X, Y = data(output)
    model = ModelSettings([7, 5], activation, "he")
    train = TrainSettings(learning_rate=0.01 if optimizer == "adam" else 0.1,
                          num_iterations=100, num_epochs=100, batch_size=batch_size,
                          optimizer=optimizer,
                          lambd=lambd, keep_prob=keep_prob, eval_every=10)
    stacked, alone, rows = run_both(X, Y, model, train, [1, 1, 1, 2, 2], 100)
    assert stacked.first_layer == "dense"
    assert_fold_curves_equal(stacked, alone, rows)


def assert_fold_curves_equal(stacked, alone, rows):
    assert stacked.done and all(t.done for t in alone)
    evaluated = 0
    for costs, metrics, expected in rows:
        for f, (cost, fold_metrics) in enumerate(expected):
            assert costs[f] == pytest.approx(cost, rel=1e-10)
            assert metrics[f] == pytest.approx(fold_metrics, rel=1e-10)
            evaluated += bool(fold_metrics)
    n, every = stacked.passes, stacked.eval_period
    assert evaluated == 5 * len({*range(0, n, every), n - 1})  # 0, every, ... and the last
    for f, t in enumerate(alone):
        for k, p in t.parameters.items():
            np.testing.assert_allclose(stacked.parameters(f)[k], p, rtol=1e-10, atol=1e-12)


SPAN_CASES = [  # (activation, output, optimizer, keep_prob, lambd), full batch
    ("relu", "sigmoid", "gd", 1.0, 0.0),
    ("tanh", "softmax", "gd", 0.8, 0.2),
    ("leaky_relu", "sigmoid", "momentum", 1.0, 0.5),
    ("sigmoid", "softmax", "momentum", 0.9, 0.3),
    ("relu", "softmax", "gd", 1.0, 0.7),
]


@pytest.mark.parametrize("activation, output, optimizer, keep_prob, lambd", SPAN_CASES)
def test_span_path_fold_curves_equal_each_fold_trained_alone(activation, output, optimizer,
                                                            keep_prob, lambd):
    X, Y = data(output)
    model = ModelSettings([7, 5], activation, "he")
    train = TrainSettings(learning_rate=0.1, num_iterations=120, optimizer=optimizer,
                          lambd=lambd, keep_prob=keep_prob, eval_every=10)
    stacked, alone, rows = run_both(X, Y, model, train, [1, 1, 1, 2, 2], 120, "span")
    assert stacked.first_layer == "span" and stacked.P["W1"].shape == (5, 7, M)
    assert_fold_curves_equal(stacked, alone, rows)


def wide_data():
    """More features than examples: where the span path is taken by default."""
    X, Y = data("sigmoid")
    return np.vstack([X, np.random.RandomState(5).rand(72, M)]), Y  # (80, 61)


@pytest.mark.parametrize("optimizer, batch_size, expected", [
    ("gd", None, "span"), ("momentum", 100, "span"), ("adam", None, "dense"),
    ("gd", 16, "dense")])
def test_span_path_is_taken_for_full_batch_gd_and_momentum_on_wide_data(optimizer, batch_size,
                                                                       expected):
    X, Y = wide_data()
    train = TrainSettings(learning_rate=0.01, num_iterations=30, num_epochs=30,
                          optimizer=optimizer,
                          batch_size=batch_size, lambd=0.3, eval_every=10)
    stacked, alone, rows = run_both(X, Y, ModelSettings([6, 3], "relu", "he"), train,
                                    [1, 2, 3, 4, 5], 30)
    assert stacked.first_layer == expected
    assert_fold_curves_equal(stacked, alone, rows)
    narrow = StackedTrainer(*data("sigmoid"), folds(Y)[0], train=train)
    assert narrow.first_layer == "dense"  # m > n_x


def test_span_path_is_refused_where_it_does_not_hold():
    X, Y = wide_data()
    for train in (TrainSettings(optimizer="adam"), TrainSettings(batch_size=16)):
        with pytest.raises(ValueError, match="span path"):
            StackedTrainer(X, Y, folds(Y)[0], train=train, first_layer="span")


def test_float32_curves_equal_each_fold_alone_to_float32_precision():
    X, Y = data("sigmoid")
    model = ModelSettings([7, 5], "relu", "he")
    train = TrainSettings(learning_rate=0.1, num_epochs=30, dtype="float32",
                          optimizer="adam", batch_size=16)
    stacked, alone, rows = run_both(X, Y, model, train, [1] * 5, 30)
    assert {p.dtype for p in stacked.P.values()} == {np.dtype("float32")}
    for costs, _, expected in rows:
        np.testing.assert_allclose(costs, [c for c, _ in expected], rtol=1e-4, atol=1e-6)


def test_divergence_is_raised_at_the_same_iteration():
    X, Y = data("sigmoid")
    model = ModelSettings([7], "relu", "he")
    train = TrainSettings(learning_rate=10.0, num_iterations=50)
    tr, va = folds(Y)
    big = X * 1e200
    with pytest.raises(DivergenceError) as alone_error:
        t = Trainer(big[:, tr[0]], Y[:, tr[0]], model, train)
        while True:
            t.step()
    stacked = StackedTrainer(big, Y, tr, model, train)
    with pytest.raises(DivergenceError) as stacked_error:
        while True:
            stacked.step()
    assert stacked_error.value.iteration == alone_error.value.iteration
