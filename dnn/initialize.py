"""Parameter initialization schemes: course, small, he, xavier."""
import numpy as np

from dnn.checks import check_choice

# Scale multiplying W[l] given n[l-1]. "course" divides by sqrt(n[l-1]) instead, as the
# course writes it (the same value up to the last bit). The two course schemes must draw
# W1, W2, ... from RandomState(seed).randn with nothing in between, to reproduce its runs.
SCALES = {
    "small": lambda n_prev: 0.01,
    "he": lambda n_prev: np.sqrt(2.0 / n_prev),
    "xavier": lambda n_prev: np.sqrt(1.0 / n_prev),
}
INITS = ("course", *SCALES)


def initialize_parameters(layer_dims, init="course", seed=1, dtype=np.float64):
    """Return {"W1": (n1, n0), "b1": (n1, 1), ...} for layer_dims [n0, n1, ..., nL]."""
    check_choice("init", init, INITS)
    rng = np.random.RandomState(seed)
    parameters = {}
    for l in range(1, len(layer_dims)):
        n, n_prev = layer_dims[l], layer_dims[l - 1]
        W = rng.randn(n, n_prev)
        if init == "course":
            W = W / np.sqrt(n_prev)  # division, as the course writes it
        else:
            W = W * SCALES[init](n_prev)
        parameters[f"W{l}"] = W.astype(dtype, copy=False)
        parameters[f"b{l}"] = np.zeros((n, 1), dtype=dtype)
    return parameters
