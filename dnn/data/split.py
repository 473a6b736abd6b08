"""Label encoding, stratified train/validation split and K folds, standardization."""
import numpy as np


def one_hot(y, n_classes=None):
    """Y for the network from integer labels y (m,): (1, m) for two classes, one-hot otherwise."""
    y = np.asarray(y).astype(int).ravel()
    n_classes = n_classes or int(y.max()) + 1
    if n_classes <= 2:
        return y[None, :].astype(float)
    Y = np.zeros((n_classes, y.size))
    Y[y, np.arange(y.size)] = 1.0
    return Y


def stratified_folds(y, k, seed):
    """K disjoint index arrays covering all examples, each class spread evenly across folds."""
    y = np.asarray(y).ravel()
    rng = np.random.RandomState(seed)
    folds = [[] for _ in range(k)]
    offset = 0
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        for j, part in enumerate(np.array_split(idx, k)):
            # Rotate the start so that remainders do not always land in fold 0.
            folds[(j + offset) % k].extend(part.tolist())
        offset += len(idx) % k
    return [np.sort(np.array(f, dtype=int)) for f in folds]


def train_val_split(y, val_fraction, seed):
    """(train_idx, val_idx), stratified by class; val is empty when val_fraction is 0."""
    y = np.asarray(y).ravel()
    if not val_fraction:
        return np.arange(y.size), np.arange(0)
    rng = np.random.RandomState(seed)
    train, val = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_val = int(round(len(idx) * val_fraction))
        val.extend(idx[:n_val])
        train.extend(idx[n_val:])
    return np.sort(np.array(train, dtype=int)), np.sort(np.array(val, dtype=int))


def standardize(X_train, *others):
    """Scale features to zero mean, unit variance using the training columns' statistics."""
    mu = X_train.mean(axis=1, keepdims=True)
    sigma = X_train.std(axis=1, keepdims=True)
    sigma[sigma == 0] = 1.0  # constant features (blank digit pixels) stay at 0
    return [None if X is None else (X - mu) / sigma for X in (X_train, *others)]
