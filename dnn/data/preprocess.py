"""From the examples a user has to the network's input: the one code that does it, when
load_dataset prepares the training data and when the logged model answers a request.

A data set holds its examples first, each in its own shape and dtype (a row of 2 floats,
a 64x64x3 uint8 image). The network takes X (n_x, m), examples as columns: each example
flattened to float64, divided by `divide` (255 for pixels) and, when the training
standardized, shifted and scaled by the training split's mean and std.
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np


def columns(x, divide=1.0):
    """X (n_x, m) float64 from examples x (m, ...), each divided by `divide`."""
    x = np.asarray(x)
    X = x.reshape(x.shape[0], -1).T  # (m, ...) -> (n_x, m)
    return X / divide if divide != 1.0 else X.astype(float)


def scaling(X_train):
    """The mean and std (n_x, 1) of the training columns; a constant feature keeps std 1."""
    mean = X_train.mean(axis=1, keepdims=True)
    std = X_train.std(axis=1, keepdims=True)
    std[std == 0] = 1.0  # constant features (blank digit pixels) stay at 0
    return mean, std


def standardized(X, mean, std):
    """X (n_x, m) at zero mean and unit variance by the training statistics (n_x, 1)."""
    return None if X is None else (X - mean) / std


@dataclass(frozen=True, eq=False)
class Preprocess:
    """What the training applied to its data, and what one example looks like."""
    shape: tuple                       # one example as the data set holds it: (2,), (64, 64, 3)
    dtype: str                         # its dtype there: "float64", "uint8"
    classes: tuple                     # the class names, by class index
    example: np.ndarray                # (1, *shape): the first training example, as held
    divide: float = 1.0                # 255 for pixels
    mean: Optional[np.ndarray] = None  # (n_x, 1) with std: the training split's statistics
    std: Optional[np.ndarray] = None

    def scale(self, X):
        """Columns X (n_x, m) as the network was trained on them."""
        return X if self.mean is None or X is None else standardized(X, self.mean, self.std)

    def apply(self, x):
        """X (n_x, m) for the network from examples x (m, *shape) as the data set holds them."""
        x = np.asarray(x)
        if x.shape[1:] != tuple(self.shape):
            raise ValueError(f"expected examples of shape (m, {', '.join(map(str, self.shape))}):"
                             f" one per row as the data set holds them, got shape {x.shape}")
        return self.scale(columns(x, self.divide))

    def labels(self, indices):
        """The class names of class indices."""
        return np.asarray(self.classes, dtype=str)[np.asarray(indices, dtype=int)]

    def save(self, path):
        """An .npz of plain arrays (no pickle), read back by load."""
        none = np.zeros((0, 1))
        np.savez(path, shape=np.asarray(self.shape, dtype=np.int64), dtype=np.asarray(self.dtype),
                 classes=np.asarray(self.classes, dtype=str), example=self.example,
                 divide=np.asarray(self.divide, dtype=float),
                 mean=none if self.mean is None else self.mean,
                 std=none if self.std is None else self.std)

    @classmethod
    def load(cls, path):
        with np.load(path, allow_pickle=False) as f:
            a = {k: f[k] for k in f.files}
        standardizes = a["mean"].size > 0
        return cls(tuple(int(n) for n in a["shape"]), str(a["dtype"]),
                   tuple(str(c) for c in a["classes"]), a["example"], float(a["divide"]),
                   a["mean"] if standardizes else None, a["std"] if standardizes else None)
