"""The data-set registry DATASETS: each data set by name, with its settings (the options
it takes, their defaults and ranges: the `data` group's schema) and its loader; and
load_dataset, one entry point from a data config (name + options) to split arrays.

The registry is the one table of data sets: the schemas and the config groups registered
with Hydra (search.config.store, search.config.data) derive from it.
"""
from dataclasses import fields
from typing import Callable, NamedTuple, Optional

import numpy as np

from dnn.data import files, synthetic
from dnn.data.memory import check_fits
from dnn.data.preprocess import Preprocess, columns, scaling
from dnn.data.settings import (
    CatSettings,
    CirclesSettings,
    GeneratedSettings,
    NpzSettings,
    TableSettings,
)
from dnn.data.split import one_hot, train_val_split

MAX_CLASSES = 1000  # labels are 0 .. n_classes - 1 with n_classes at most this


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
    preprocess: Preprocess  # raw examples -> X as above: what a logged model applies


def _sklearn(loader_name):
    def load(seed):
        import sklearn.datasets  # bundled with scikit-learn: no download

        bunch = getattr(sklearn.datasets, loader_name)()
        return bunch.data, bunch.target.astype(int), None, None, \
            [str(c) for c in bunch.target_names]
    return load


def _generated(fn):
    def load(seed, **options):
        X, y = fn(seed=seed, **options)
        return X.T, y, None, None, ["0", "1"]  # points as rows
    return load


def _npz(seed, path):
    if path is None:
        raise files.DataError("data.path is not set: point it at your .npz file")
    return (*files.load_npz(path), None)


class Registered(NamedTuple):
    """A data set: its settings class and its loader, called with settings.options() and
    returning the examples as the set holds them, x (m, ...), integer labels y (m,),
    x_test, y_test (or None) and the class names (or None: "0", "1", ...); what its
    values are divided by (dnn.data.preprocess)."""
    settings: type
    load: Callable
    divide: float = 1.0


DATASETS = {
    "planar": Registered(GeneratedSettings, _generated(synthetic.planar)),
    "moons": Registered(GeneratedSettings, _generated(synthetic.moons)),
    "circles": Registered(CirclesSettings, _generated(synthetic.circles)),
    "digits": Registered(TableSettings, _sklearn("load_digits")),
    "breast_cancer": Registered(TableSettings, _sklearn("load_breast_cancer")),
    "cat": Registered(CatSettings, lambda seed, dir: files.load_cat(dir), 255.0),  # 8-bit pixels
    "npz": Registered(NpzSettings, _npz),
}


def settings_class(name):
    """The settings class of data set `name` (None for a name not registered)."""
    return DATASETS[name].settings if name in DATASETS else None


def settings_of(name, **options):
    """The settings of data set `name` with options set; ValueError names a bad name,
    an option the set does not take, or a value out of range."""
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; allowed: {', '.join(DATASETS)}")
    cls = DATASETS[name].settings
    allowed = {f.name for f in fields(cls)} - {"name"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(f"data set {name} takes no option {unknown[0]!r}; its options: "
                         f"{', '.join(sorted(allowed))}")
    return cls(name=name, **options)


def _n_classes(y, y_test, classes, source):
    """The number of classes the labels define, checked against the examples and a cap
    before any one-hot array is allocated."""
    m, top = y.size, int(y.max())
    if top >= min(m, MAX_CLASSES):
        raise files.DataError(f"{source}: label {top} in y, but {m} examples can define at "
                              f"most {min(m, MAX_CLASSES)} classes (labels 0..{min(m, MAX_CLASSES) - 1}"
                              f"; at most {MAX_CLASSES} classes)")
    n_classes = max(len(classes or ()), top + 1)
    if y_test is not None and len(y_test) and int(y_test.max()) >= n_classes:
        raise files.DataError(f"{source}: y_test has label {int(y_test.max())}, but the training "
                              f"labels y define {n_classes} classes (0..{n_classes - 1})")
    return n_classes


def load_dataset(name="moons", val_fraction=None, standardize=None, seed=None, **options):
    """Load data set `name`, split a stratified validation part off the training data.

    The options and their defaults are those of the set's settings (dnn.data.settings):
    dir for cat, path for npz, n_samples and noise for generated sets (and factor for
    circles); val_fraction, standardize (scale features with the training split's mean
    and std) and seed for all. An option the set does not take is refused.
    """
    given = {"val_fraction": val_fraction, "standardize": standardize, "seed": seed}
    settings = settings_of(name, **{k: v for k, v in given.items() if v is not None}, **options)
    x, y, x_test, y_test, classes = DATASETS[name].load(**settings.options())  # examples first
    n_classes = _n_classes(y, y_test, classes, settings.source())
    classes = classes or [str(c) for c in range(n_classes)]
    rows = 1 if n_classes <= 2 else n_classes
    n_y = y.size + (0 if y_test is None else y_test.size)
    n_x = int(np.prod(x.shape[1:]))
    check_fits(f"data set {name}: X {(n_x, y.size)} and labels ({rows}, {n_y}) as float64",
               2 * n_x * y.size * 8 + rows * n_y * 8)
    divide = DATASETS[name].divide
    X, X_test = columns(x, divide), None if x_test is None else columns(x_test, divide)
    train_idx, val_idx = train_val_split(y, settings.val_fraction, settings.seed)
    X_train, X_val = X[:, train_idx], (X[:, val_idx] if len(val_idx) else None)
    mean, std = scaling(X_train) if settings.standardize else (None, None)
    prep = Preprocess(x.shape[1:], x.dtype.name, tuple(classes), x[train_idx[:1]], divide,
                      mean, std)
    X_train, X_val, X_test = prep.scale(X_train), prep.scale(X_val), prep.scale(X_test)
    encode = lambda labels: None if labels is None else one_hot(labels, n_classes)  # noqa: E731
    y_val = y[val_idx] if len(val_idx) else None
    return Dataset(name, X_train, encode(y[train_idx]), X_val, encode(y_val), X_test,
                   encode(y_test), classes, y[train_idx], prep)
