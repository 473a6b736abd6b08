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


def _checked_images(x, y, path, prefix):
    if x.ndim < 2 or y.ndim != 1 or x.shape[0] != y.shape[0]:
        raise DataError(f"{path}: {prefix}_x {x.shape} and {prefix}_y {y.shape} do not "
                        "describe the same number of examples")
    _check_finite(x, path, f"{prefix}_x")
    _check_labels(y, path, f"{prefix}_y")
    return x, y.astype(int)


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
    """The course's cat/non-cat files as they hold them: images x (m, 64, 64, 3) of uint8
    pixels and labels y (m,), for train and test, and the class names."""
    if dir is None:
        raise DataError("data.dir is not set: point it at the folder holding "
                        f"{train_file} and {test_file}")
    train_path, test_path = _require(Path(dir) / train_file), _require(Path(dir) / test_file)
    x, y, classes = _read_h5(train_path, ["train_set_x", "train_set_y", "list_classes"])
    xt, yt = _read_h5(test_path, ["test_set_x", "test_set_y"])
    x, y = _checked_images(x, y, train_path, "train_set")
    xt, yt = _checked_images(xt, yt, test_path, "test_set")
    if xt.shape[1:] != x.shape[1:]:
        raise DataError(f"{test_path}: images of shape {xt.shape[1:]}, train has {x.shape[1:]}")
    return x, y, xt, yt, [c.decode() if isinstance(c, bytes) else str(c) for c in classes]


def load_npz(path):
    """A user's .npz: X (m, ...) and integer labels y (m,), examples first; optionally
    X_test, y_test. Returns them as the file holds them: X, y, X_test, y_test (None when
    absent)."""
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
        out += [x, y.astype(int)]
    if out[2] is not None and out[2].shape[1:] != out[0].shape[1:]:
        raise DataError(f"{path}: X_test holds examples of shape {out[2].shape[1:]}, X of "
                        f"{out[0].shape[1:]}")
    return tuple(out)
