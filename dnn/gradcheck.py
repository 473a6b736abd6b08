"""Gradient checking: two-sided finite differences against model_backward."""
import numpy as np

from dnn.cost import compute_cost, l2_cost
from dnn.model import model_backward, model_forward, output_logits


def total_cost(X, Y, parameters, activation, output, lambd):
    _, caches = model_forward(X, parameters, activation, output)
    return compute_cost(output_logits(caches), Y) + l2_cost(parameters, lambd, Y.shape[1])


def gradient_check(X, Y, parameters, activation="relu", lambd=0.0, epsilon=1e-7):
    """Relative difference ||grad - approx|| / (||grad|| + ||approx||) over all parameters.

    Perturbs every entry of every W and b in turn (float64 advised); dropout is off.
    """
    output = "sigmoid" if Y.shape[0] == 1 else "softmax"
    AL, caches = model_forward(X, parameters, activation, output)
    grads = model_backward(AL, Y, caches, activation, lambd)
    analytic, approx = [], []
    for key, P in parameters.items():
        analytic.append(grads["d" + key].ravel())
        numeric = np.empty(P.size)
        flat = P.reshape(-1)  # a view: writes perturb the parameter itself
        for i in range(P.size):
            saved = flat[i]
            flat[i] = saved + epsilon
            J_plus = total_cost(X, Y, parameters, activation, output, lambd)
            flat[i] = saved - epsilon
            J_minus = total_cost(X, Y, parameters, activation, output, lambd)
            flat[i] = saved
            numeric[i] = (J_plus - J_minus) / (2 * epsilon)
        approx.append(numeric)
    grad, approx = np.concatenate(analytic), np.concatenate(approx)
    return float(np.linalg.norm(grad - approx) / (np.linalg.norm(grad) + np.linalg.norm(approx)))
