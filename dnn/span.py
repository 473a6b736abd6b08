"""The first layer in the span of the data: a Gram-matrix path for full-batch folds.

With full-batch gradient descent, with momentum or not, with L2 or not, every update of W1
is a combination of W1 itself and of dW1 = dZ1 @ X.T. Starting from W1_0, each fold's W1
therefore stays of the form

    W1 = alpha * W1_0 + C @ X.T          alpha: a scalar per fold, C: (n1, m)

over the m columns of X (n_x, m). The first layer's product becomes

    Z1 = W1 @ X = alpha * (W1_0 @ X) + C @ G        G = X.T @ X (m, m)

with G and W1_0 @ X computed once, and the update of W1 by lr * dW1 becomes C -= lr * dZ1:
the gradient in these coordinates is dZ1 itself, no product at all. L2's term
lambd / m * W1 shrinks alpha and C alike; momentum keeps its velocity in the same form (a
scalar on W1_0 plus a matrix like C). A fold's dZ1 is zero on its held-out columns, so its
C stays zero there, as its W1 never sees them.

What it saves: the first layer's two products, about 4 F n1 n_x m FLOPs an iteration,
become one of 2 F n1 m^2: for the course's 12,288 pixels on 209 images about 100x less.
It pays while m is small against n_x (G is m x m); Adam and RMS-style updates are
elementwise, leave the span, and keep the plain path.

SpanColumns stands in for stacked.py's SharedColumns: stacked_forward and stacked_backward
run unchanged, with C in the place of W1 in the parameters. The scalars (alpha and the
momentum's coefficient) live here and move in step after each update (SpanColumns.update).
"""
import numpy as np

from dnn.stacked import SharedColumns

OPTIMIZERS = ("gd", "momentum")  # the updates that keep W1 in the span
MAX_COLUMNS = 4096  # G is m x m: 128 MB in float64 at this size


def span_applies(n_x, m, optimizer, full_batch):
    """Whether the span path is the faster one (measured: bench/bench_stacked.py)."""
    return optimizer in OPTIMIZERS and full_batch and m <= min(n_x, MAX_COLUMNS)


class SpanColumns:
    """All m columns of X for every fold, the first layer held as alpha W1_0 + C X.T."""

    def __init__(self, X, XT, W1_0):
        F = W1_0.shape[0]
        self.XT, self.W1_0 = XT, W1_0  # (m, n_x), (F, n1, n_x)
        self.G = XT @ X  # (m, n_x) @ (n_x, m) -> (m, m)
        self.W0X = np.ascontiguousarray(SharedColumns(X, XT).product(W1_0))  # (F, n1, m)
        self.W0_squared = np.square(W1_0).sum(axis=(1, 2))  # (F,)
        self.alpha = np.ones(F, X.dtype)
        self.alpha_velocity = np.zeros(F, X.dtype)  # momentum's coefficient on W1_0

    @property
    def finite(self):
        """False when X.T @ X overflowed (the plain path then reports the divergence)."""
        return bool(np.isfinite(self.G).all() and np.isfinite(self.W0X).all())

    def initial_coefficients(self):
        """C = 0: W1 = W1_0. (F, n1, m)"""
        return np.zeros_like(self.W0X)

    def product(self, C):
        Z1 = self._times_gram(C)
        Z1 += self.alpha[:, None, None] * self.W0X
        return Z1

    def _times_gram(self, C):
        """C @ G, (F, n1, m), written as OpenBLAS runs it fastest and most steadily on a busy
        machine: F small products (n1, m) @ (m, m), each run on one thread (the course's
        20 x 209 x 209: 0.2 ms, where one (F n1, m) @ (m, m), split between two threads that
        wait on each other, took 0.4-20 ms), else one product G @ C.T, taller than C @ G."""
        F, n1, m = C.shape
        if n1 * m * m <= 1e6:
            return np.matmul(C, self.G)  # (F, n1, m) @ (m, m)
        Z1T = self.G @ C.reshape(F * n1, m).T  # (m, m) @ (m, F n1) -> (m, F n1); G = G.T
        return Z1T.T.reshape(F, n1, m)  # a view

    def gradient(self, dZ1):
        """dW1 in the span's coordinates: dZ1 itself (W1 moves by dZ1 @ X.T)."""
        return dZ1

    def squared_norm(self, C):
        """||W1||^2 of each fold, (F,): alpha^2 ||W1_0||^2 + 2 alpha <W1_0 X, C> + <C G, C>."""
        cross = np.einsum("fij,fij->f", self.W0X, C)
        return (self.alpha ** 2 * self.W0_squared + 2 * self.alpha * cross
                + np.einsum("fij,fij->f", self._times_gram(C), C))

    def update(self, train, m_b):
        """Move alpha as the update moved W1's W1_0 part: L2's shrinking (lambd / m_b of each
        fold), through the momentum's velocity when there is one. m_b (F,)."""
        if not train.lambd:
            return
        g = train.lambd / m_b * self.alpha  # d(L2 term)/dW1 on W1_0, per fold
        if train.optimizer == "momentum":
            self.alpha_velocity *= train.beta
            self.alpha_velocity += (1 - train.beta) * g
            g = self.alpha_velocity
        self.alpha -= train.learning_rate * g

    def materialize(self, C, f):
        """Fold f's W1 (n1, n_x): alpha W1_0 + C X.T."""
        return self.alpha[f] * self.W1_0[f] + C[f] @ self.XT  # (n1, m) @ (m, n_x)
