"""Cross-entropy cost (binary or categorical), with an optional L2 penalty."""
import numpy as np


def compute_cost(ZL, Y):
    """Mean cross-entropy of the output layer, from its pre-activation ZL.

    Equal to the course's -(Y log AL + (1-Y) log(1-AL)) summed over examples / m
    (to the last bits), but written on ZL so that a confident network gives a large
    finite cost instead of log(0) = -inf: no epsilon clipping needed.
    """
    m = Y.shape[1]
    if Y.shape[0] == 1:
        # -log(sigmoid(z)) = softplus(-z), -log(1 - sigmoid(z)) = softplus(z)
        losses = np.logaddexp(0, ZL) - Y * ZL
    else:
        Zmax = ZL.max(axis=0, keepdims=True)
        log_norm = Zmax + np.log(np.exp(ZL - Zmax).sum(axis=0, keepdims=True))
        losses = log_norm - (Y * ZL).sum(axis=0, keepdims=True)
    return float(losses.sum() / m)


def l2_cost(parameters, lambd, m):
    """The course's L2 term: lambd / (2 m) * sum of squared weights."""
    if not lambd:
        return 0.0
    L = len(parameters) // 2
    return float(lambd / (2 * m) * sum(np.sum(np.square(parameters[f"W{l}"])) for l in range(1, L + 1)))
