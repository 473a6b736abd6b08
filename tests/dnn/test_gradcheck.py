"""Backward pass against two-sided finite differences, in float64."""
import numpy as np
import pytest

from dnn import gradient_check, initialize_parameters


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("problem", ["binary_problem", "softmax_problem"])
@pytest.mark.parametrize("lambd", [0.0, 0.7])
def test_backward_matches_finite_differences(activation, problem, lambd, request):
    X, Y = request.getfixturevalue(problem)
    # he init keeps relu units away from their kink at 0, where differences lie.
    parameters = initialize_parameters([X.shape[0], 5, 3, Y.shape[0]], "he", seed=3)
    for k in parameters:
        if k.startswith("b"):
            parameters[k] += 0.1 * np.random.RandomState(len(k)).randn(*parameters[k].shape)
    assert gradient_check(X, Y, parameters, activation, lambd) < 1e-7


def test_gradient_check_catches_a_wrong_gradient(binary_problem, monkeypatch):
    X, Y = binary_problem
    parameters = initialize_parameters([4, 5, 1], "he", seed=3)
    import dnn.gradcheck as gc

    real = gc.model_backward

    def broken(*args, **kwargs):
        grads = real(*args, **kwargs)
        grads["dW1"] = grads["dW1"] * 1.01
        return grads

    monkeypatch.setattr(gc, "model_backward", broken)
    assert gradient_check(X, Y, parameters) > 1e-4
