"""Loaders for data on disk: the course's HDF5 files and a user's own .npz."""
import zipfile
from pathlib import Path

import numpy as np


class DataError(ValueError):
    """A data file is missing, unreadable or malformed; the message names the file."""


def _require(path):
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    return path


def _read_h5(path, keys):
    import h5py  # only the cat loader needs it

    try:
        with h5py.File(path, "r") as f:
            missing = [k for k in keys if k not in f]
            if missing:
                raise DataError(f"{path}: missing key(s) {missing}; found {sorted(f.keys())}")
            return [np.array(f[k][:]) for k in keys]
    except OSError as e:
        raise DataError(f"{path}: not a readable HDF5 file ({e})") from None


def _images_to_columns(x, y, path, prefix):
    if x.ndim < 2 or y.ndim != 1 or x.shape[0] != y.shape[0]:
        raise DataError(f"{path}: {prefix}_x {x.shape} and {prefix}_y {y.shape} do not "
                        "describe the same number of examples")
    _check_finite(x, path, f"{prefix}_x")
    _check_labels(y, path, f"{prefix}_y")
    return x.reshape(x.shape[0], -1).T / 255.0, y.astype(int)  # (n_x, m), pixels in [0, 1]


def _check_finite(x, path, key):
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise DataError(f"{path}: {key} must hold real numbers, got dtype {x.dtype}")
    if not np.isfinite(x).all():
        where = np.argwhere(~np.isfinite(x))[0]
        raise DataError(f"{path}: {key} holds NaN or infinite values (first at index "
                        f"{tuple(int(i) for i in where)})")


def _check_labels(y, path, key):
    if not np.issubdtype(y.dtype, np.integer) or (y.size and y.min() < 0):
        raise DataError(f"{path}: {key} must hold integer class labels 0, 1, ...")


def load_cat(dir, train_file="train_catvnoncat.h5", test_file="test_catvnoncat.h5"):
    """The course's cat/non-cat files: X (12288, m) in [0, 1], y (m,), for train and test."""
    if dir is None:
        raise DataError("data.dir is not set: point it at the folder holding "
                        f"{train_file} and {test_file}")
    train_path, test_path = _require(Path(dir) / train_file), _require(Path(dir) / test_file)
    x, y, classes = _read_h5(train_path, ["train_set_x", "train_set_y", "list_classes"])
    xt, yt = _read_h5(test_path, ["test_set_x", "test_set_y"])
    X, y = _images_to_columns(x, y, train_path, "train_set")
    Xt, yt = _images_to_columns(xt, yt, test_path, "test_set")
    if Xt.shape[0] != X.shape[0]:
        raise DataError(f"{test_path}: images of {Xt.shape[0]} values, train has {X.shape[0]}")
    return X, y, Xt, yt, [c.decode() if isinstance(c, bytes) else str(c) for c in classes]


def load_npz(path):
    """A user's .npz: X (m, ...) and integer labels y (m,), examples first; optionally
    X_test, y_test. Returns X (n_x, m), y, X_test, y_test (None when absent)."""
    path = _require(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise DataError(f"{path}: not a readable .npz file ({e})") from None
    if "X" not in arrays or "y" not in arrays:
        raise DataError(f"{path}: needs arrays 'X' and 'y'; found {sorted(arrays)}")
    out = []
    for xk, yk in (("X", "y"), ("X_test", "y_test")):
        if xk not in arrays:
            out += [None, None]
            continue
        x, y = arrays[xk], arrays[yk].ravel() if yk in arrays else None
        if x.ndim == 0 or x.shape[0] == 0:
            raise DataError(f"{path}: {xk} must be an array of examples (m, ...) with m >= 1, "
                            f"got shape {x.shape}")
        if y is None or x.shape[0] != y.shape[0]:
            raise DataError(f"{path}: {xk} {x.shape} and {yk} "
                            f"{None if y is None else y.shape} must have one label per example")
        _check_finite(x, path, xk)
        _check_labels(y, path, yk)
        out += [x.reshape(x.shape[0], -1).T.astype(float), y.astype(int)]
    return tuple(out)
