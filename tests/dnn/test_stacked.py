"""dnn/stacked.py: each fold's gradients in the stacked network equal those of the fold
trained alone with model.py (float64, 1e-10 relative), in both column layouts."""
import numpy as np
import pytest

from dnn import initialize_parameters, model_backward, model_forward
from dnn.cost import compute_cost, l2_cost
from dnn.stacked import (
    GatheredColumns,
    SharedColumns,
    first_layer_layout,
    stack,
    stacked_backward,
    stacked_cost,
    stacked_forward,
    stacked_l2_cost,
    unstack,
)

F, M = 4, 23


def problem(output):
    rng = np.random.RandomState(0)
    X = rng.randn(9, M)
    Y = (rng.rand(1, M) > 0.5).astype(float) if output == "sigmoid" else \
        np.eye(3)[:, rng.randint(0, 3, M)]
    # fold f trains on the columns not in its own quarter (one held-out set per fold)
    held_out = np.array_split(rng.permutation(M), F)
    columns = [np.sort(np.concatenate([h for j, h in enumerate(held_out) if j != f]))
               for f in range(F)]
    params = [initialize_parameters([9, 6, 5, Y.shape[0]], "he", seed=s) for s in (1, 2, 3, 4)]
    for p in params:  # biases away from zero: every unit's kink matters
        for k in p:
            if k.startswith("b"):
                p[k] += 0.1 * np.random.RandomState(len(k)).randn(*p[k].shape)
    return X, Y, columns, params


def alone(X, Y, columns, params, activation, output, lambd, keep_prob):
    """Each fold by model.py on its own columns; its dropout stream RandomState(10 + f)."""
    grads, costs = [], []
    for f, (c, p) in enumerate(zip(columns, params)):
        AL, caches = model_forward(X[:, c], p, activation, output, keep_prob,
                                   np.random.RandomState(10 + f))
        grads.append(model_backward(AL, Y[:, c], caches, activation, lambd, keep_prob))
        costs.append(compute_cost(caches[-1].activation_cache, Y[:, c])
                     + l2_cost(p, lambd, len(c)))
    return grads, costs


def stacked(layout, X, Y, columns, params, activation, output, lambd, keep_prob):
    rngs = [np.random.RandomState(10 + f) for f in range(F)]
    P = stack(params)
    P["W1"] = first_layer_layout(P["W1"])
    m_b = np.array([len(c) for c in columns], float)
    if layout == "shared":
        cols, Ys = SharedColumns(X, np.ascontiguousarray(X.T)), Y
        mask = np.zeros((F, 1, M), bool)
        where = columns
    else:  # each fold's columns gathered, padded to the longest
        c = max(map(len, columns))
        take = np.zeros((F, c), int)
        mask = np.zeros((F, 1, c), bool)
        for f, cf in enumerate(columns):
            take[f, :len(cf)] = cf
        where = [slice(0, len(cf)) for cf in columns]
        cols, Ys = GatheredColumns(X.T[take]), Y.T[take].transpose(0, 2, 1)
    for f, w in enumerate(where):
        mask[f, 0, w] = True

    def draw_mask(shape):
        D = np.zeros(shape, bool)
        for f in range(F):
            D[f][:, where[f]] = rngs[f].random_sample((shape[1], int(m_b[f]))) < keep_prob
        return D

    AL, caches = stacked_forward(cols, P, activation, output, keep_prob, draw_mask)
    cost = stacked_cost(caches[-1].Z, Ys, mask, m_b) + stacked_l2_cost(P, lambd, m_b)
    grads = stacked_backward(cols, AL, Ys, mask, m_b, caches, P, activation, lambd, keep_prob)
    return [unstack(grads, f) for f in range(F)], cost


@pytest.mark.parametrize("layout", ["shared", "gathered"])
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
@pytest.mark.parametrize("lambd, keep_prob", [(0.0, 1.0), (0.7, 1.0), (0.0, 0.6), (0.4, 0.8)])
def test_each_folds_gradients_equal_the_fold_alone(layout, activation, output, lambd,
                                                   keep_prob):
    X, Y, columns, params = problem(output)
    expected, expected_costs = alone(X, Y, columns, params, activation, output, lambd, keep_prob)
    got, costs = stacked(layout, X, Y, columns, params, activation, output, lambd, keep_prob)
    np.testing.assert_allclose(costs, expected_costs, rtol=1e-12)
    for f in range(F):
        assert got[f].keys() == expected[f].keys()
        for k, g in expected[f].items():
            assert np.linalg.norm(got[f][k] - g) <= 1e-10 * np.linalg.norm(g), (f, k)


def test_held_out_columns_add_nothing():
    """A fold's gradients do not change when its held-out columns of X change."""
    X, Y, columns, params = problem("sigmoid")
    got, _ = stacked("shared", X, Y, columns, params, "relu", "sigmoid", 0.0, 1.0)
    X2 = X.copy()
    held_out_of_0 = np.setdiff1d(np.arange(M), columns[0])
    X2[:, held_out_of_0] = 1e3
    got2, _ = stacked("shared", X2, Y, columns, params, "relu", "sigmoid", 0.0, 1.0)
    for k in got[0]:
        np.testing.assert_array_equal(got[0][k], got2[0][k])
    assert not np.array_equal(got[1]["dW1"], got2[1]["dW1"])


def test_first_layer_layout_keeps_values_and_shape():
    W1 = np.arange(2 * 3 * 4.0).reshape(2, 3, 4)
    laid = first_layer_layout(W1)
    np.testing.assert_array_equal(laid, W1)
    assert laid.base is not None and laid.base.flags.c_contiguous and laid.base.shape == (4, 6)


@pytest.mark.parametrize("m", [5, 40])  # F n1 = 12 above and below m: both orientations
def test_shared_products_equal_each_folds_own(m):
    rng = np.random.RandomState(1)
    X, W1, dZ1 = rng.randn(7, m), rng.randn(3, 4, 7), rng.randn(3, 4, m)
    cols = SharedColumns(X, np.ascontiguousarray(X.T))
    Z1, dW1 = cols.product(first_layer_layout(W1)), cols.gradient(dZ1)
    for f in range(3):
        np.testing.assert_allclose(Z1[f], W1[f] @ X, rtol=1e-13)
        np.testing.assert_allclose(dW1[f], dZ1[f] @ X.T, rtol=1e-13)
