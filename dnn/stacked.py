"""F networks of one architecture as one stacked network: model.py with a fold axis.

Every array gets a leading axis, one entry per network ("fold"): W[l] is (F, n[l], n[l-1]),
b[l] is (F, n[l], 1), A[l] and Z[l] are (F, n[l], c) over the c columns of the step. Each
fold keeps its own math: its own parameters, dropout masks, cost and gradients over its
own columns, which a boolean mask (F, 1, c) marks; its dZ is zero elsewhere, so the other
columns add nothing to its gradients. Hidden layers are batched products over the fold
axis (np.matmul); the first layer's product is left to the columns (see below), because
that is where the folds can share the work.

Two ways to give the first layer its columns:
- SharedColumns: every fold computes on all m columns of X (n_x, m), a fold's held-out
  columns masked out; layer 1 is one product (F n1, n_x) @ (n_x, m) and its gradient one
  product (F n1, m) @ (m, n_x), each reading X once for all folds. For a narrow first
  layer on a wide input (the course's 20 x 12,288 on 209 images) the plain product is
  bound by reading X from memory; stacked F times taller it becomes compute-bound. The
  price: every layer computes on the m columns instead of a fold's m (K-1)/K.
- GatheredColumns: each fold's own columns (a mini-batch), gathered into (F, n_x, c);
  layer 1 is a batched product like the others. Nothing is shared, nothing is wasted.
A third, dnn/span.py's SpanColumns, serves full batches with gd or momentum on few
columns: it keeps each W1 as a combination of W1_0 and of the columns of X, and works
with X.T @ X instead of X.
"""
from typing import NamedTuple, Optional

import numpy as np

from dnn.activations import BACKWARD, FORWARD


class SharedColumns(NamedTuple):
    """All m columns of X for every fold; the first layer reads X once for all.

    Both products are written the way OpenBLAS runs them fastest and most steadily on a
    busy machine, where its two threads wait on each other at every block of a long
    contraction: with the taller result, (m, n_x) @ (n_x, F n1) or (F n1, n_x) @ (n_x, m),
    whichever has more rows (up to 10x faster than the other under load here), and the
    gradient as (n_x, m) @ (m, F n1) (1.5-2x over dZ1 @ X.T). X is held both ways, each
    C-contiguous. The gradient comes out as (n_x, F n1) in memory: W1 is kept in that
    layout too (see first_layer_layout), so the update runs on contiguous memory."""

    X: np.ndarray  # (n_x, m)
    XT: np.ndarray  # (m, n_x)

    def product(self, W1):
        F, n1, n_x = W1.shape
        W1_rows = W1.reshape(F * n1, n_x)  # a view
        if F * n1 >= self.XT.shape[0]:
            return (W1_rows @ self.X).reshape(F, n1, -1)  # (F n1, n_x) @ (n_x, m)
        Z1T = self.XT @ W1_rows.T  # (m, n_x) @ (n_x, F n1) -> (m, F n1)
        return Z1T.T.reshape(F, n1, -1)  # a view: (F, n1, m)

    def gradient(self, dZ1):
        F, n1, m = dZ1.shape
        dW1T = self.X @ dZ1.reshape(F * n1, m).T  # (n_x, m) @ (m, F n1) -> (n_x, F n1)
        return dW1T.T.reshape(F, n1, -1)  # a view: (F, n1, n_x)


def first_layer_layout(W1):
    """W1 (F, n1, n_x) as a view of an (n_x, F n1) C-contiguous array, the layout of
    SharedColumns.gradient: same values, same shape."""
    F, n1, n_x = W1.shape
    return np.ascontiguousarray(W1.reshape(F * n1, n_x).T).T.reshape(F, n1, n_x)


class GatheredColumns(NamedTuple):
    """Each fold's own columns, gathered as rows: XT_f (F, c, n_x), examples contiguous.
    The products run in SharedColumns' orientation, per fold."""

    XT_f: np.ndarray  # (F, c, n_x)

    def product(self, W1):
        Z1T = np.matmul(self.XT_f, W1.transpose(0, 2, 1))  # (F, c, n_x) @ (F, n_x, n1)
        return Z1T.transpose(0, 2, 1)  # a view: (F, n1, c)

    def gradient(self, dZ1):
        F, n1, _ = dZ1.shape
        n_x = self.XT_f.shape[2]
        dW1T = np.empty((n_x, F, n1), dZ1.dtype).transpose(1, 0, 2)  # first_layer_layout
        # (F, n_x, c) @ (F, c, n1) -> (F, n_x, n1)
        np.matmul(self.XT_f.transpose(0, 2, 1), dZ1.transpose(0, 2, 1), out=dW1T)
        return dW1T.transpose(0, 2, 1)  # a view: (F, n1, n_x)


class StackedCache(NamedTuple):
    """Layer l's cache: its input (None for layer 1: the columns hold it), Z, dropout mask."""

    A_prev: Optional[np.ndarray]  # (F, n[l-1], c)
    Z: np.ndarray  # (F, n[l], c); for relu layers max(Z, 0), written over Z
    D: Optional[np.ndarray] = None  # (F, n[l], c) booleans, hidden layers with dropout


def stack(parameter_list):
    """{"W1": (F, n1, n0), ...} from F dicts of model.py's parameters."""
    return {k: np.stack([p[k] for p in parameter_list]) for k in parameter_list[0]}


def unstack(P, f):
    """Fold f's parameters as model.py's dict (contiguous copies)."""
    return {k: np.ascontiguousarray(v[f]) for k, v in P.items()}


def softmax_over_units(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))  # (F, n, c), units on axis 1
    E /= E.sum(axis=1, keepdims=True)
    return E


def stacked_forward(columns, P, activation, output, keep_prob=1.0, draw_mask=None):
    """model_forward for all folds. draw_mask(shape) gives each hidden layer's dropout mask
    (F, n, c) when keep_prob < 1. Returns AL (F, n_L, c) and the caches."""
    L = len(P) // 2
    A, caches = None, []
    for l in range(1, L + 1):
        W, b = P[f"W{l}"], P[f"b{l}"]
        Z = columns.product(W) if l == 1 else np.matmul(W, A)  # (F, n, n_prev) @ (F, n_prev, c)
        Z += b  # fresh product: in place
        A_prev = A
        if l == L:
            A = softmax_over_units(Z) if output == "softmax" else FORWARD["sigmoid"](Z)[0]
        elif activation == "relu":
            A = np.maximum(Z, 0, out=Z)  # over the fresh Z: the cache's Z is then A, whose
            #                             sign pattern (all relu's backward reads) is Z's
        else:
            A, _ = FORWARD[activation](Z)
        D = None
        if keep_prob < 1 and l < L:
            D = draw_mask(A.shape)
            A = A * D / keep_prob
        caches.append(StackedCache(A_prev, Z, D))
    return A, caches


def stacked_cost(ZL, Y, mask, m_b):
    """Each fold's mean cross-entropy over its columns, from ZL (F, n_L, c): shape (F,)."""
    if ZL.shape[1] == 1:
        losses = np.logaddexp(0, ZL) - Y * ZL  # (F, 1, c), as dnn.cost
    else:
        Zmax = ZL.max(axis=1, keepdims=True)
        log_norm = Zmax + np.log(np.exp(ZL - Zmax).sum(axis=1, keepdims=True))
        losses = log_norm - (Y * ZL).sum(axis=1, keepdims=True)
    return np.where(mask, losses, 0).sum(axis=(1, 2)) / m_b


def stacked_l2_cost(P, lambd, m_b, W1_squared=None):
    """Each fold's L2 term lambd / (2 m) * sum of its squared weights: shape (F,).
    W1_squared (F,): layer 1's sums of squares, when P["W1"] is not W1 itself (dnn/span.py)."""
    L = len(P) // 2
    if W1_squared is None:
        W1_squared = np.square(P["W1"]).sum(axis=(1, 2))
    return lambd / (2 * m_b) * (W1_squared + sum(np.square(P[f"W{l}"]).sum(axis=(1, 2))
                                                 for l in range(2, L + 1)))


def stacked_backward(columns, AL, Y, mask, m_b, caches, P, activation, lambd=0.0, keep_prob=1.0):
    """model_backward for all folds: {"dW1": (F, n1, n0), ...}. m_b (F,) is each fold's
    column count, in the parameters' dtype."""
    scale = m_b[:, None, None]  # (F, 1, 1)
    dZ = AL - Y  # (F, n_L, c), fresh: scaled and masked in place
    dZ /= scale
    if not mask.all():
        np.copyto(dZ, 0, where=~mask)  # zero off a fold's columns
    grads = {}
    for l in range(len(caches), 0, -1):
        A_prev, _, _ = caches[l - 1]
        W = P[f"W{l}"]
        if l == 1:
            dW = columns.gradient(dZ)  # (F, n1, n0)
        else:
            dW = np.matmul(dZ, A_prev.transpose(0, 2, 1))  # (F, n, c) @ (F, c, n_prev)
        db = dZ.sum(axis=2, keepdims=True)  # (F, n, 1)
        if lambd:
            dW += (lambd / scale) * W
        grads[f"dW{l}"], grads[f"db{l}"] = dW, db
        if l > 1:
            dA = np.matmul(W.transpose(0, 2, 1), dZ)  # (F, n_prev, n) @ (F, n, c)
            _, Z_prev, D_prev = caches[l - 2]
            if D_prev is not None:
                dA = dA * D_prev / keep_prob
            if activation == "relu":  # dA is fresh: relu's backward in place
                dZ = np.multiply(dA, Z_prev > 0, out=dA)
            else:
                dZ = BACKWARD[activation](dA, Z_prev)
    return grads
