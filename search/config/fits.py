"""Checks that need the data: cross-validation folds against the classes, whether the
network's arrays fit in memory, and whether the features fit in the training's dtype. Run
after the data is loaded, before any run exists."""
import numpy as np

from dnn.data.memory import check_fits
from search.config.errors import ConfigError

# Arrays held per parameter while training: the parameter, its gradient, and up to two
# optimizer moments (adam); activations: A and Z of each layer for the examples of a batch.
COPIES = {"gd": 2, "momentum": 3, "adam": 4}


def network_bytes(layer_dims, m, optimizer, dtype):
    itemsize = np.dtype(dtype).itemsize
    weights = sum(n * (n_prev + 1) for n_prev, n in zip(layer_dims, layer_dims[1:]))
    activations = 2 * m * sum(layer_dims)
    return itemsize * (COPIES.get(optimizer, 4) * weights + activations)


def check_against_data(cfg, data):
    """ConfigError when cv.folds exceeds the smallest class of the training data, or when
    the network cannot fit in memory for this data."""
    folds = cfg.cv.folds if "cv" in cfg else None
    if folds:
        y = data.y_train if data.Y_val is None else np.concatenate([
            data.y_train, data.Y_val.argmax(axis=0) if data.Y_val.shape[0] > 1
            else data.Y_val[0].astype(int)])
        smallest = int(np.unique(y, return_counts=True)[1].min())
        if folds > smallest:
            raise ConfigError(f"cv.folds={folds}: must be at most {smallest}, the number of "
                              f"training examples of the smallest class of data set "
                              f"{cfg.data.name} (each fold needs one)")
    check_network_fits(cfg, data, folds)
    check_dtype_holds(cfg, data)


def check_dtype_holds(cfg, data):
    """ConfigError when the features reach past the largest value of train.dtype (float32:
    3.4e38): cast to it, they would be inf, and every trial would fail."""
    largest = float(np.finfo(cfg.train.dtype).max)
    # Only data of a wider dtype can reach past it (float64 data under float64 is skipped);
    # the largest magnitude is read from max and min, without a copy of |X|.
    arrays = [a for a in (data.X_train, data.X_val)
              if a is not None and float(np.finfo(a.dtype).max) > largest]
    reach = max((float(max(a.max(), -a.min())) for a in arrays), default=0.0)
    if reach > largest:
        raise ConfigError(f"train.dtype={cfg.train.dtype}: the features of data set "
                          f"{cfg.data.name} reach {reach:.3g}, past its largest value "
                          f"{largest:.3g}; allowed: train.dtype=float64, or scaled features "
                          "(data.standardize=true)")


def check_network_fits(cfg, data, folds):
    """ConfigError when what is trained at once cannot fit in memory: one network, or under
    cross-validation folds x repeats networks together (stacked or in lockstep), each with
    its own copy of its fold's columns of the training data."""
    t = cfg.train
    dims = [data.X_train.shape[0], *cfg.model.hidden_units, data.Y_train.shape[0]]
    pool = data.X_train.shape[1] + (data.X_val.shape[1] if folds and data.X_val is not None
                                    else 0)
    m = pool if t.batch_size is None else min(t.batch_size, pool)
    what = f"a network of layers {dims} trained on batches of {m} examples with {t.optimizer}"
    n_bytes = network_bytes(dims, m, t.optimizer, t.dtype)
    if folds:
        repeats = cfg.cv.repeats or 1
        count = folds * repeats
        what = (f"{count} networks trained at once (cv.folds={folds} x cv.repeats={repeats}) "
                f"of layers {dims} on batches of {m} examples with {t.optimizer}, each with "
                f"its fold's copy of the {pool} training examples")
        n_bytes = count * (n_bytes + np.dtype(t.dtype).itemsize * dims[0] * pool)
    try:
        check_fits(f"model.hidden_units={list(cfg.model.hidden_units)}: {what}", n_bytes)
    except ValueError as e:
        raise ConfigError(str(e)) from None
