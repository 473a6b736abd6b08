"""Parameter updates: plain gradient descent, momentum and Adam."""
import numpy as np

from dnn.checks import check_choice

OPTIMIZERS = ("gd", "momentum", "adam")


def initialize_optimizer(parameters, optimizer="gd"):
    """State for the optimizer: velocities v (momentum, Adam) and squares s (Adam)."""
    check_choice("optimizer", optimizer, OPTIMIZERS)
    state = {"t": 0}
    if optimizer in ("momentum", "adam"):
        state["v"] = {k: np.zeros_like(p) for k, p in parameters.items()}
    if optimizer == "adam":
        state["s"] = {k: np.zeros_like(p) for k, p in parameters.items()}
    return state


def update_parameters(parameters, grads, learning_rate, optimizer="gd", state=None,
                      beta=0.9, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """One update step, in place on parameters; returns parameters."""
    if optimizer == "gd":
        for k, p in parameters.items():
            p -= learning_rate * grads["d" + k]
        return parameters
    state["t"] += 1
    t = state["t"]
    for k, p in parameters.items():
        g, v = grads["d" + k], state["v"][k]
        if optimizer == "momentum":
            v *= beta
            v += (1 - beta) * g
            p -= learning_rate * v
            continue
        s = state["s"][k]
        v *= beta1
        v += (1 - beta1) * g
        s *= beta2
        s += (1 - beta2) * np.square(g)
        v_hat = v / (1 - beta1 ** t)  # bias correction, as in the course
        s_hat = s / (1 - beta2 ** t)
        p -= learning_rate * v_hat / (np.sqrt(s_hat) + epsilon)
    return parameters
