"""Training's fast path: model_forward and model_backward of model.py with relu layers
written in place. Private to the training loop; read model.py for the math.

The same values as the plain functions, to the last bit, with fewer (n, m) arrays per
relu layer and iteration:
- forward: relu is written over the layer's fresh Z (one array fewer); the layer's
  cache then holds its output A, whose sign pattern is Z's (A > 0 exactly where Z > 0);
- backward, no dropout: dZ of a relu layer is written over its cached output A, which
  is also the next layer's A_prev and dead once that layer's dW is computed (no fresh
  array, nor the kernel's zeroing of its pages: ~6% of a wide network's step);
- backward, dropout: the mask and the relu derivative are applied in place on the
  fresh W^T dZ.
The caches are spent: the backward pass overwrites them.
"""
from typing import NamedTuple, Optional

import numpy as np

from dnn.activations import BACKWARD
from dnn.layers import LinearCache, linear_activation_forward, linear_backward, linear_forward
from dnn.model import dropout


class ReluCache(NamedTuple):
    """A relu layer's cache on the fast path: its output A written over its Z."""

    linear_cache: LinearCache
    A: np.ndarray  # (n, m), A > 0 exactly where Z > 0
    D: Optional[np.ndarray] = None  # dropout mask of A, or None


def _model_forward_inplace(X, parameters, activation, output, keep_prob=1.0, rng=None):
    """model_forward, with relu hidden layers cached as ReluCache (see the module)."""
    L = len(parameters) // 2
    A = X
    caches = []
    for l in range(1, L + 1):
        W, b = parameters[f"W{l}"], parameters[f"b{l}"]
        if l < L and activation == "relu":
            Z, linear_cache = linear_forward(A, W, b)
            A = np.maximum(Z, 0, out=Z)  # Z is ours and fresh: A over it
            cache = ReluCache(linear_cache, A)
        else:
            A, cache = linear_activation_forward(A, W, b, activation if l < L else output)
        if keep_prob < 1 and l < L:
            A, cache = dropout(A, cache, keep_prob, rng)
        caches.append(cache)
    return A, caches


def _model_backward_spending(AL, Y, caches, activation, lambd=0.0, keep_prob=1.0):
    """model_backward on the caches of _model_forward_inplace, overwriting them."""
    m = Y.shape[1]
    L = len(caches)
    grads = {}
    dZ = AL - Y  # (n_L, m), fresh: divided in place, the same values as (AL - Y) / m
    dZ /= m
    for l in range(L, 0, -1):
        linear_cache = caches[l - 1].linear_cache
        prev = caches[l - 2] if l > 1 else None
        if isinstance(prev, ReluCache) and prev.D is None:
            dZ_prev, dW, db = _linear_relu_backward(dZ, linear_cache, prev.A)
        else:
            dA_prev, dW, db = linear_backward(dZ, linear_cache, need_dA_prev=l > 1)
            dZ_prev = _hidden_dZ_inplace(dA_prev, prev, activation, keep_prob) if l > 1 else None
        if lambd:
            dW += (lambd / m) * linear_cache.W
        grads[f"dW{l}"], grads[f"db{l}"] = dW, db
        dZ = dZ_prev
    return grads


def _linear_relu_backward(dZ, linear_cache, A_relu):
    """linear_backward fused with the relu backward of the layer below, whose output
    A_relu (this layer's A_prev) receives dZ_prev = (W^T dZ) * (A_relu > 0)."""
    A_prev, W, _ = linear_cache
    dW = dZ @ A_prev.T  # (n, m) @ (m, n_prev) -> (n, n_prev), before A_relu is overwritten
    db = dZ.sum(axis=1, keepdims=True)  # (n, 1)
    active = A_relu > 0  # relu's mask
    dZ_prev = np.matmul(W.T, dZ, out=A_relu)  # (n_prev, n) @ (n, m) -> (n_prev, m)
    np.multiply(dZ_prev, active, out=dZ_prev)
    return dZ_prev, dW, db


def _hidden_dZ_inplace(dA, cache, activation, keep_prob):
    """hidden_dZ of model.py on a fresh dA, written over it where it can be."""
    if cache.D is not None:
        np.multiply(dA, cache.D, out=dA)
        dA /= keep_prob
    if isinstance(cache, ReluCache):
        np.multiply(dA, cache.A > 0, out=dA)
        return dA
    return BACKWARD[activation](dA, cache.activation_cache)
