"""The training loop's fast path (dnn/fused.py) against the plain model.py, and the
plain public functions' purity: no input, no cache changed."""
import copy

import numpy as np
import pytest

from dnn import model_backward, model_forward, relu, relu_backward
from dnn.fused import _model_backward_spending, _model_forward_inplace
from dnn.initialize import initialize_parameters


def problem(output, dtype="float64"):
    rng = np.random.RandomState(4)
    X = rng.randn(6, 13).astype(dtype)
    Y = ((rng.rand(1, 13) > 0.5) if output == "sigmoid" else np.eye(3)[:, rng.randint(0, 3, 13)])
    Y = Y.astype(dtype)
    return X, Y, initialize_parameters([6, 5, 4, Y.shape[0]], "he", seed=2, dtype=dtype)


def test_relu_backward_leaves_its_input_alone():
    dA, Z = np.array([[1.0, -2.0, 3.0]]), np.array([[0.5, 1.0, -1.0]])
    dA_before = dA.copy()
    np.testing.assert_array_equal(relu_backward(dA, Z), [[1.0, -2.0, 0.0]])
    np.testing.assert_array_equal(dA, dA_before)


def test_relu_cache_holds_z():
    _, caches = model_forward(*problem("sigmoid")[::2], activation="relu")
    X, _, p = problem("sigmoid")
    Z1 = p["W1"] @ X + p["b1"]
    assert (Z1 < 0).any()
    np.testing.assert_array_equal(caches[0].activation_cache, Z1)
    np.testing.assert_array_equal(relu(Z1)[0], np.maximum(Z1, 0))


def arrays(obj):
    """Every array inside nested tuples, lists and dicts, in order."""
    if isinstance(obj, np.ndarray):
        return [obj]
    items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (tuple, list)) else ()
    return [a for item in items for a in arrays(item)]


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("keep_prob", [1.0, 0.7])
def test_public_forward_and_backward_change_nothing(activation, keep_prob):
    X, Y, p = problem("softmax")
    inputs = copy.deepcopy((X, Y, p))
    AL, caches = model_forward(X, p, activation, "softmax", keep_prob, np.random.RandomState(0))
    saved = copy.deepcopy(caches)
    grads = model_backward(AL, Y, caches, activation, 0.3, keep_prob)
    for a, b in zip(arrays((saved, inputs)), arrays((caches, (X, Y, p))), strict=True):
        np.testing.assert_array_equal(a, b)
    again = model_backward(AL, Y, caches, activation, 0.3, keep_prob)  # caches still usable
    for a, b in zip(arrays(grads), arrays(again), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
@pytest.mark.parametrize("keep_prob, lambd", [(1.0, 0.0), (0.6, 0.5)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fast_path_equals_the_plain_one_to_the_bit(activation, output, keep_prob, lambd, dtype):
    X, Y, p = problem(output, dtype)
    AL, caches = model_forward(X, p, activation, output, keep_prob, np.random.RandomState(9))
    grads = model_backward(AL, Y, caches, activation, lambd, keep_prob)
    AL_f, caches_f = _model_forward_inplace(X, p, activation, output, keep_prob,
                                            np.random.RandomState(9))
    grads_f = _model_backward_spending(AL_f, Y, caches_f, activation, lambd, keep_prob)
    np.testing.assert_array_equal(AL_f, AL)
    assert grads.keys() == grads_f.keys()
    for k in grads:
        assert grads_f[k].dtype == np.dtype(dtype)
        np.testing.assert_array_equal(grads_f[k], grads[k], err_msg=k)
