"""A search space fitted to the data: the bounds and choices a space leaves unset (null) are
chosen from the data's shape, and each choice says why in a `fitted` line that is printed
at the start of a sweep and stored with the study's definition.

What is fitted (n_x inputs, n_y outputs, m examples a trial trains on: the training split,
or a fold's (K-1)/K of the training data under cross-validation):
- model.hidden_units (type layers) units_high: 2 max(n_x, n_y) rounded up to a power of
  two, within [32, 256], and at most max(32, m // 4); units_low: n_y, within [2,
  units_high // 4]. A 2-feature set keeps 32 units, digits (64 -> 10) gets 10..128, a
  12,288-pixel image set 256.
- train.batch_size (type categorical) choices: the sizes of 32, 64, 128, 256 that leave at
  least 8 updates an epoch (size <= m // 8), and null (full batch) up to 512 examples: past
  that, a full-batch pass makes one update where mini-batches of 64 make 8 or more, and its
  trials take many times as long to learn as much (digits, m=1,437, 5 folds: one full-batch
  trial 415 s, the mini-batch ones 18-92 s).
A bound or a list written in the space (or on the command line) is kept as written; the
fitted bound of the other end moves to stay on its side (units_high=8 on digits: 8..8).
"""
import math

import numpy as np

UNITS_FLOOR, UNITS_CEILING = 32, 256
BATCH_SIZES = (32, 64, 128, 256)
MIN_UPDATES_PER_EPOCH = 8
FULL_BATCH_MAX = 512  # examples: full batch offered up to here


def needs_fitting(dims):
    """The dimensions with a bound or a choice list left to the data."""
    return {path: spec for path, spec in dims.items()
            if (spec.get("type") == "layers"
                and (spec.get("units_low") is None or spec.get("units_high") is None))
            or (spec.get("type") == "categorical" and spec.get("choices") is None)}


def data_shape(data, folds):
    """(n_x, n_y, m) of a loaded data set: m the examples one trial trains on."""
    n_x, n_y = data.X_train.shape[0], data.Y_train.shape[0]
    m = data.X_train.shape[1]
    if folds:
        pool = m + (0 if data.X_val is None else data.X_val.shape[1])
        m = pool * (folds - 1) // folds
    return n_x, n_y, m


def fit_dims(dims, n_x, n_y, m):
    """dims with the unset bounds and choices filled from the shape, each fitted spec
    carrying its reason under "fitted"; the input is left alone."""
    out = {}
    for path, spec in dims.items():
        spec = dict(spec)
        if path in needs_fitting({path: spec}):
            fit = _fit_units if spec["type"] == "layers" else _fit_choices
            spec.update(fit(path, spec, n_x, n_y, m))
        out[path] = spec
    return out


def _fit_units(path, spec, n_x, n_y, m):
    high = 2 ** math.ceil(math.log2(2 * max(n_x, n_y)))
    high = int(min(np.clip(high, UNITS_FLOOR, UNITS_CEILING), max(UNITS_FLOOR, m // 4)))
    low = int(np.clip(n_y, 2, max(2, high // 4)))
    # a bound written by the user is kept, and the fitted one moves to stay on its side
    high = max(high, spec.get("units_low") or 1)
    low = min(low, spec.get("units_high") or low)
    fitted = {k: v for k, v in (("units_low", low), ("units_high", high)) if spec.get(k) is None}
    why = (f"{path} units {spec.get('units_low') or low}..{spec.get('units_high') or high} "
           f"for n_x={n_x} inputs, n_y={n_y} outputs, m={m} examples: high 2 max(n_x, n_y) "
           f"as a power of 2 within [{UNITS_FLOOR}, {UNITS_CEILING}], at most m/4; low n_y")
    return {**fitted, "fitted": why}


def _fit_choices(path, spec, n_x, n_y, m):
    if path != "train.batch_size":
        raise ValueError(f"search.space.{path}.choices: null is fitted to the data only for "
                         "train.batch_size; give the choices")
    sizes = [b for b in BATCH_SIZES if b <= m // MIN_UPDATES_PER_EPOCH]
    full = [None] if m <= FULL_BATCH_MAX or not sizes else []
    listed = ", ".join(["null" if b is None else str(b) for b in [*full, *sizes]])
    why = (f"{path} choices [{listed}] for m={m} examples: mini-batches of "
           f"{', '.join(map(str, BATCH_SIZES))} leaving at least {MIN_UPDATES_PER_EPOCH} "
           f"updates an epoch, full batch up to {FULL_BATCH_MAX} examples")
    return {"choices": [*full, *sizes], "fitted": why}


def fitted_lines(dims):
    """What was fitted and why, one line per dimension."""
    return [spec["fitted"] for spec in dims.values() if spec.get("fitted")]
