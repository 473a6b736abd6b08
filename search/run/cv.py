"""Cross-validation of one config: K stratified folds (x R repeats) trained in lockstep.

The folds are cut from the training data only (the training split plus any validation
split; never the test split). Every iteration advances all fold trainings by one step, so
the mean validation metric exists at every evaluation step: pruning acts on the mean.
"""
import numpy as np

from dataclasses import replace

from dnn import Trainer, evaluate
from dnn.settings import settings_from
from dnn.data import stratified_folds


def training_pool(data):
    """X, Y and integer labels of all non-test data."""
    if data.X_val is None:
        return data.X_train, data.Y_train, data.y_train
    y_val = data.Y_val.argmax(axis=0) if data.Y_val.shape[0] > 1 else data.Y_val[0].astype(int)
    return (np.hstack([data.X_train, data.X_val]), np.hstack([data.Y_train, data.Y_val]),
            np.concatenate([data.y_train, y_val]))


def fold_splits(y, folds, repeats, seed):
    """[(name, train_idx, val_idx)]: repeat r reshuffles the folds with seed + r."""
    splits = []
    for r in range(repeats):
        parts = stratified_folds(y, folds, seed + r)
        for k, val_idx in enumerate(parts, 1):
            train_idx = np.sort(np.concatenate([p for j, p in enumerate(parts, 1) if j != k]))
            name = f"fold_{k}" if repeats == 1 else f"r{r + 1}_fold_{k}"
            splits.append((name, train_idx, val_idx))
    return splits


def cross_validate(data, fit_kwargs, folds, repeats, data_seed, callback):
    """Train every fold in lockstep. callback(i, mean_cost, mean_metrics, fold_metrics) after
    each iteration; returning True stops all folds. Returns (mean costs, finals, parameters
    of each fold, per-fold finals)."""
    X, Y, y = training_pool(data)
    model, train = settings_from(**fit_kwargs)
    splits = fold_splits(y, folds, repeats, data_seed)
    trainers = []
    for n, (name, tr, va) in enumerate(splits):
        repeat = n // folds  # initialization and shuffling change with the repeat
        fold_train = replace(train, seed=train.seed + repeat)
        trainers.append((name, Trainer(X[:, tr], Y[:, tr], model, fold_train,
                                       validation=(X[:, va], Y[:, va])), va))
    costs = []
    while not trainers[0][1].done:
        steps = [(name, t.step()) for name, t, _ in trainers]
        costs.append(float(np.mean([cost for _, (cost, _) in steps])))
        per_fold = {name: m for name, (_, m) in steps if m}
        mean = mean_metrics(per_fold) if per_fold else {}
        if callback(len(costs) - 1, costs[-1], mean, per_fold):
            break
    finals = {name: {**evaluate(t.parameters, X[:, va], Y[:, va], model.activation, "val_"),
                     "train_accuracy": evaluate(t.parameters, t.X, t.Y, model.activation)["accuracy"]}
              for name, t, va in trainers}
    parameters = {f"{name}.{k}": v for name, t, _ in trainers for k, v in t.parameters.items()}
    return costs, mean_metrics(finals, with_std=True), parameters, finals


def mean_metrics(per_fold, with_std=False):
    """Mean of each metric over folds, and its standard deviation (the spread)."""
    keys = next(iter(per_fold.values())).keys()
    out = {k: float(np.mean([m[k] for m in per_fold.values()])) for k in keys}
    if with_std:
        out.update({f"{k}_std": float(np.std([m[k] for m in per_fold.values()])) for k in keys})
    return out
