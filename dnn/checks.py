"""Input validation: the one range checker, and the shape checks of the network's data.

A rule (Number, OneOf, Flag, Text) says which values a key takes; rule.check(key, value)
raises ValueError "key=value: must be <what is allowed>", the form of the data settings and
of every config key (search.config.rules turns it into a ConfigError). check_range,
check_positive and check_choice apply the same rules to the network's keyword arguments,
in the form "name must be in [low, high], got value".
"""
import math
import numbers
from dataclasses import dataclass
from typing import Any, Optional, Tuple

import numpy as np

INF = math.inf
MAX_SEED = 2**32 - 1  # numpy.random.RandomState accepts seeds in [0, 2**32 - 1]


@dataclass(frozen=True)
class Number:
    """A real number (an integer) between low and high. An end is open when its flag says
    so; an infinite end is open unless its flag is set False (then inf itself is taken)."""
    low: float = -INF
    high: float = INF
    low_open: Optional[bool] = None   # None: open when low is -inf
    high_open: Optional[bool] = None  # None: open when high is inf
    integer: bool = False
    optional: bool = False  # null allowed

    def ends(self):
        """(low_open, high_open) as used."""
        return (self.low == -INF if self.low_open is None else self.low_open,
                self.high == INF if self.high_open is None else self.high_open)

    def interval(self):
        low_open, high_open = self.ends()
        return f"{'(' if low_open else '['}{self.low}, {self.high}{')' if high_open else ']'}"

    def allows(self, value):
        if value is None:
            return self.optional
        kind = numbers.Integral if self.integer else numbers.Real
        if isinstance(value, bool) or not isinstance(value, kind):
            return False
        if not isinstance(value, numbers.Integral) and math.isnan(value):
            return False
        low_open, high_open = self.ends()
        return (value > self.low if low_open else value >= self.low) and \
            (value < self.high if high_open else value <= self.high)

    def allowed(self):
        return (f"{'an integer' if self.integer else 'a number'} in {self.interval()}"
                f"{' (or null)' if self.optional else ''}")

    def check(self, key, value):
        if not self.allows(value):
            raise ValueError(f"{key}={value!r}: must be {self.allowed()}")


def Integer(low=1, high=INF, optional=False):
    return Number(low, high, integer=True, optional=optional)


def Positive(high=INF, optional=False):
    return Number(0, high, low_open=True, optional=optional)


SEED = Integer(0, MAX_SEED)


@dataclass(frozen=True)
class OneOf:
    allowed: Tuple[Any, ...]

    def allows(self, value):
        return not isinstance(value, bool) and value in self.allowed

    def check(self, key, value):
        if not self.allows(value):
            raise ValueError(f"{key}={value!r}: must be one of "
                             f"{', '.join(map(str, self.allowed))}")


@dataclass(frozen=True)
class Flag:
    def check(self, key, value):
        if not isinstance(value, bool):
            raise ValueError(f"{key}={value!r}: must be true or false")


@dataclass(frozen=True)
class Text:
    optional: bool = False

    def check(self, key, value):
        if value is None and self.optional:
            return
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{key}={value!r}: must be a non-empty string"
                             f"{' (or null)' if self.optional else ''}")


def check_choice(name, value, allowed):
    if not OneOf(tuple(allowed)).allows(value):
        raise ValueError(f"unknown {name} {value!r}; allowed: {', '.join(map(str, allowed))}")


def check_positive(name, value, integer=False):
    if not Number(0, INF, low_open=True, high_open=False, integer=integer).allows(value):
        what = "a positive integer" if integer else "a positive number"
        raise ValueError(f"{name} must be {what}, got {value!r}")


def check_range(name, value, low, high, low_open=False, high_open=False):
    rule = Number(low, high, low_open, high_open)
    if not rule.allows(value):
        raise ValueError(f"{name} must be in {rule.interval()}, got {value!r}")


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
