"""Label encoding, stratified train/validation split and K folds, standardization.

The split and the folds are scikit-learn's (train_test_split, StratifiedKFold), seeded:
the same labels and seed give the same indices.
"""
import numpy as np

from dnn.data.preprocess import scaling, standardized


def one_hot(y, n_classes=None):
    """Y for the network from integer labels y (m,): (1, m) for two classes, one-hot otherwise."""
    y = np.asarray(y).astype(int).ravel()
    n_classes = n_classes or int(y.max()) + 1
    if n_classes <= 2:
        return y[None, :].astype(float)
    Y = np.zeros((n_classes, y.size))
    Y[y, np.arange(y.size)] = 1.0
    return Y


def _smallest_class(y):
    return int(np.unique(y, return_counts=True)[1].min())


def stratified_folds(y, k, seed):
    """K disjoint sorted index arrays covering all examples, each class spread evenly
    across the folds (scikit-learn's StratifiedKFold, shuffled with seed)."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y).ravel()
    if k > _smallest_class(y):
        raise ValueError(f"cv.folds={k}: must be at most {_smallest_class(y)}, the number of "
                         "training examples of the smallest class (each fold needs one)")
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [np.sort(val) for _, val in splitter.split(np.zeros((y.size, 1)), y)]


def train_val_split(y, val_fraction, seed):
    """(train_idx, val_idx), sorted and stratified by class (scikit-learn's
    train_test_split, seeded); val is empty when val_fraction is 0."""
    from sklearn.model_selection import train_test_split

    y = np.asarray(y).ravel()
    if not val_fraction:
        return np.arange(y.size), np.arange(0)
    n_classes, n_val = np.unique(y).size, int(np.ceil(val_fraction * y.size))
    if _smallest_class(y) < 2 or not n_classes <= n_val <= y.size - n_classes:
        raise ValueError(f"data.val_fraction={val_fraction}: a stratified validation split of "
                         f"{y.size} examples needs every one of the {n_classes} classes twice "
                         f"and at least one example of each on both sides (or val_fraction=0)")
    train, val = train_test_split(np.arange(y.size), test_size=val_fraction, stratify=y,
                                  random_state=seed)
    return np.sort(train), np.sort(val)


def standardize(X_train, *others):
    """Scale features to zero mean, unit variance using the training columns' statistics."""
    mean, std = scaling(X_train)
    return [standardized(X, mean, std) for X in (X_train, *others)]
