"""load_dataset: one entry point from a data config (name + options) to split arrays."""
from typing import NamedTuple, Optional

import numpy as np

from dnn.checks import check_choice, check_range
from dnn.data import files, synthetic
from dnn.data.split import one_hot, standardize as standardize_columns, train_val_split


class Dataset(NamedTuple):
    """Splits with examples as columns: X (n_x, m), Y (1, m) or one-hot (n_classes, m)."""
    name: str
    X_train: np.ndarray
    Y_train: np.ndarray
    X_val: Optional[np.ndarray]
    Y_val: Optional[np.ndarray]
    X_test: Optional[np.ndarray]
    Y_test: Optional[np.ndarray]
    classes: list
    y_train: np.ndarray  # integer labels of the training split, for stratified folds


def _sklearn(loader_name):
    def load(**_):
        import sklearn.datasets  # bundled with scikit-learn: no download

        bunch = getattr(sklearn.datasets, loader_name)()
        return bunch.data.T.astype(float), bunch.target.astype(int), None, None, \
            [str(c) for c in bunch.target_names]
    return load


def _generated(fn):
    def load(n_samples=400, noise=0.2, factor=0.5, seed=1, **_):
        kwargs = {"factor": factor} if fn is synthetic.circles else {}
        X, y = fn(n_samples=n_samples, noise=noise, seed=seed, **kwargs)
        return X, y, None, None, ["0", "1"]
    return load


LOADERS = {
    "planar": _generated(synthetic.planar),
    "moons": _generated(synthetic.moons),
    "circles": _generated(synthetic.circles),
    "digits": _sklearn("load_digits"),
    "breast_cancer": _sklearn("load_breast_cancer"),
    "cat": lambda dir=None, **_: files.load_cat(dir),
    "npz": lambda path=None, **_: (*files.load_npz(path), None),
}
DATASETS = tuple(LOADERS)


def load_dataset(name="moons", dir=None, path=None, n_samples=400, noise=0.2, factor=0.5,
                 val_fraction=0.2, standardize=False, seed=1):
    """Load data set `name`, split a stratified validation part off the training data.

    dir: folder of the course's HDF5 files (name=cat); path: a .npz (name=npz).
    n_samples, noise, factor: generated sets. standardize: scale features with the
    training split's mean and std (for tabular data).
    """
    check_choice("data set", name, DATASETS)
    check_range("val_fraction", val_fraction, 0, 1, high_open=True)
    if name == "npz" and path is None:
        raise files.DataError("data.path is not set: point it at your .npz file")
    X, y, X_test, y_test, classes = LOADERS[name](
        dir=dir, path=path, n_samples=n_samples, noise=noise, factor=factor, seed=seed)
    classes = classes or [str(c) for c in range(int(y.max()) + 1)]
    n_classes = max(len(classes), int(y.max()) + 1)
    if y_test is not None and len(y_test) and int(y_test.max()) >= n_classes:
        raise files.DataError(f"{path}: y_test has label {int(y_test.max())}, but the training "
                              f"labels y define {n_classes} classes (0..{n_classes - 1})")
    train_idx, val_idx = train_val_split(y, val_fraction, seed)
    X_train, X_val = X[:, train_idx], (X[:, val_idx] if len(val_idx) else None)
    if standardize:
        X_train, X_val, X_test = standardize_columns(X_train, X_val, X_test)
    encode = lambda labels: None if labels is None else one_hot(labels, n_classes)  # noqa: E731
    y_val = y[val_idx] if len(val_idx) else None
    return Dataset(name, X_train, encode(y[train_idx]), X_val, encode(y_val), X_test,
                   encode(y_test), classes, y[train_idx])
