"""Loaders for data on disk: the course's HDF5 files and a user's own .npz."""
import zipfile
from pathlib import Path

import numpy as np

from dnn.data.memory import check_fits

NPZ_KEYS = ("X", "y", "X_test", "y_test")  # the arrays a .npz data set is read for

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


def npz_headers(path):
    """{key: (shape, dtype, bytes the archive holds for it)} of the arrays of the .npz at
    path, read from the zip directory and each .npy header alone: nothing is decompressed
    beyond a header, so a compressed bomb costs nothing to size."""
    headers = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            with archive.open(info) as f:
                version = np.lib.format.read_magic(f)
                read = np.lib.format.read_array_header_1_0 if version == (1, 0) \
                    else np.lib.format.read_array_header_2_0
                shape, _, dtype = read(f)
                headers[key] = (shape, dtype, info.file_size - f.tell())
    return headers


def _check_npz_sizes(path, headers):
    """DataError when an array's header claims more than its member holds, or when the
    arrays read (and X as float64) cannot fit in memory; before anything is read."""
    need, parts = 0, []
    for key in [k for k in NPZ_KEYS if k in headers]:
        shape, dtype, held = headers[key]
        n_bytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if n_bytes > held:
            raise DataError(f"{path}: {key} claims shape {shape} of {dtype} ({n_bytes} bytes) "
                            f"but the archive holds {held} bytes for it")
        copy = int(np.prod(shape, dtype=object)) * 8 if key.startswith("X") else 0
        need += n_bytes + copy
        parts.append(f"{key} {shape} {dtype}")
    try:
        check_fits(f"{path}: arrays {', '.join(parts)} (and X as float64)", need)
    except ValueError as e:
        raise DataError(str(e)) from None


def load_npz(path):
    """A user's .npz: X (m, ...) and integer labels y (m,), examples first; optionally
    X_test, y_test. Returns them as the file holds them: X, y, X_test, y_test (None when
    absent). Only those arrays are read, once their headers say they fit in memory."""
    path = _require(path)
    try:
        _check_npz_sizes(path, npz_headers(path))
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in NPZ_KEYS if k in f.files}
            found = sorted(f.files)
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        if isinstance(e, DataError):
            raise
        raise DataError(f"{path}: not a readable .npz file ({e})") from None
    if "X" not in arrays or "y" not in arrays:
        raise DataError(f"{path}: needs arrays 'X' and 'y'; found {found}")
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
