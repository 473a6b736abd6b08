"""StackedTrainer: each fold's curve equals dnn.Trainer on that fold alone (1e-9 over 100
iterations in float64), with mini-batches, dropout, L2 and every optimizer."""
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


def run_both(X, Y, model, train, seeds, iterations):
    tr, va = folds(Y)
    stacked = StackedTrainer(X, Y, tr, model, train, seeds, va)
    alone = [Trainer(X[:, t], Y[:, t], model, replace(train, seed=s), (X[:, v], Y[:, v]))
             for t, v, s in zip(tr, va, seeds)]
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
]


@pytest.mark.parametrize("activation, output, optimizer, batch_size, keep_prob, lambd", CASES)
def test_fold_curves_equal_each_fold_trained_alone(activation, output, optimizer, batch_size,
                                                   keep_prob, lambd):
    X, Y = data(output)
    model = ModelSettings([7, 5], activation, "he")
    train = TrainSettings(learning_rate=0.01 if optimizer == "adam" else 0.1,
                          num_iterations=100, batch_size=batch_size, optimizer=optimizer,
                          lambd=lambd, keep_prob=keep_prob, eval_every=10)
    stacked, alone, rows = run_both(X, Y, model, train, [1, 1, 1, 2, 2], 100)
    assert stacked.done and all(t.done for t in alone)
    evaluated = 0
    for costs, metrics, expected in rows:
        for f, (cost, fold_metrics) in enumerate(expected):
            assert costs[f] == pytest.approx(cost, rel=1e-9)
            assert metrics[f] == pytest.approx(fold_metrics, rel=1e-9)
            evaluated += bool(fold_metrics)
    assert evaluated == 5 * 11  # iterations 0, 10, ..., 90 and the last one
    for f, t in enumerate(alone):
        for k, p in t.parameters.items():
            np.testing.assert_allclose(stacked.parameters(f)[k], p, rtol=1e-9, atol=1e-12)


def test_float32_curves_equal_each_fold_alone_to_float32_precision():
    X, Y = data("sigmoid")
    model = ModelSettings([7, 5], "relu", "he")
    train = TrainSettings(learning_rate=0.1, num_iterations=30, dtype="float32",
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
