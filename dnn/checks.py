"""Input validation shared by the network: one clear ValueError per bad value."""
import numbers

import numpy as np


def check_choice(name, value, allowed):
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; allowed: {', '.join(map(str, allowed))}")


def check_positive(name, value, integer=False):
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0:
        what = "a positive integer" if integer else "a positive number"
        raise ValueError(f"{name} must be {what}, got {value!r}")


def check_range(name, value, low, high, low_open=False, high_open=False):
    lo, hi = "(" if low_open else "[", ")" if high_open else "]"
    number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not (number and (value > low if low_open else value >= low)
            and (value < high if high_open else value <= high)):
        raise ValueError(f"{name} must be in {lo}{low}, {high}{hi}, got {value!r}")


def check_data(X, Y, n_classes_out=None):
    """Check X (n_x, m) and Y (1, m) or (n_y, m): shapes, finiteness, labels."""
    X, Y = np.asarray(X), np.asarray(Y)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n_x, m), got shape {X.shape}")
    if Y.ndim != 2 or Y.shape[1] != X.shape[1]:
        raise ValueError(f"Y must have shape (n_y, {X.shape[1]}) to match X {X.shape}, got {Y.shape}")
    if X.shape[1] == 0:
        raise ValueError("X has no examples (m = 0)")
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinite values")
    if Y.shape[0] == 1:
        bad = ~np.isin(Y, (0, 1))
        if bad.any():
            raise ValueError(f"binary labels must be 0 or 1, got {Y[bad][0].item()!r}")
    else:
        if not (np.isin(Y, (0, 1)).all() and (Y.sum(axis=0) == 1).all()):
            raise ValueError("multi-class Y must be one-hot with shape (n_classes, m)")
    return X, Y
