"""One layer: linear forward/backward and linear->activation forward/backward."""
from typing import NamedTuple, Optional

import numpy as np

from dnn.activations import BACKWARD, FORWARD, softmax


class LinearCache(NamedTuple):
    """What linear_backward needs from linear_forward: the layer's input and parameters."""

    A_prev: np.ndarray  # (n_prev, m)
    W: np.ndarray  # (n, n_prev)
    b: np.ndarray  # (n, 1)


class LayerCache(NamedTuple):
    """One layer's cache: its linear cache, its pre-activation Z (the activation cache)
    and, on hidden layers trained with dropout, the mask D applied to its output."""

    linear_cache: LinearCache
    activation_cache: np.ndarray  # Z, (n, m)
    D: Optional[np.ndarray] = None  # (n, m) booleans, or None: no dropout


def linear_forward(A_prev, W, b):
    if A_prev.flags.f_contiguous and not A_prev.flags.c_contiguous:
        # Examples stored contiguously (as the image loaders give X): the same
        # product as (m, n_prev) @ (n_prev, n), which OpenBLAS runs up to 1.7x
        # faster in float32 than W @ A_prev on this layout (about even in float64).
        Z = (A_prev.T @ W.T).T  # ((m, n_prev) @ (n_prev, n)).T -> (n, m)
    else:
        Z = W @ A_prev  # (n, n_prev) @ (n_prev, m) -> (n, m)
    Z += b  # in place on our fresh product: no second (n, m) temporary
    return Z, LinearCache(A_prev, W, b)


def linear_backward(dZ, cache, need_dA_prev=True):
    """dZ is already divided by m (see model_backward), so dW and db are plain sums.

    The first layer passes need_dA_prev=False: the gradient with respect to the
    input X is never used, and skipping it saves a third of the work on wide inputs.
    """
    A_prev, W, b = cache
    dW = dZ @ A_prev.T  # (n, m) @ (m, n_prev) -> (n, n_prev)
    db = dZ.sum(axis=1, keepdims=True)  # (n, 1)
    dA_prev = W.T @ dZ if need_dA_prev else None  # (n_prev, n) @ (n, m) -> (n_prev, m)
    return dA_prev, dW, db


def linear_activation_forward(A_prev, W, b, activation):
    Z, linear_cache = linear_forward(A_prev, W, b)
    A, Z = softmax(Z) if activation == "softmax" else FORWARD[activation](Z)
    return A, LayerCache(linear_cache, Z)


def linear_activation_backward(dA, cache, activation, need_dA_prev=True):
    dZ = BACKWARD[activation](dA, cache.activation_cache)
    return linear_backward(dZ, cache.linear_cache, need_dA_prev)
