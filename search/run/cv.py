"""Cross-validation of one config: K stratified folds (x R repeats) trained together.

The folds are cut from the training data only (the training split plus any validation
split; never the test split). Every iteration advances all fold trainings by one step, so
the mean validation metric exists at every evaluation step: pruning acts on the mean, and
so does early stopping (train.patience): the folds stop together, on the mean of the
watched metric over the folds, and each keeps its parameters of that best mean evaluation.
Together rather than each on its own, because a trial is one configuration scored by its
mean over the folds at one iteration (what the pruner reads, step by step), and its length
is part of it: the best iteration is where the refit on all training data, which has no
validation split to stop on, stops (dnn.settings.fixed_length). Folds stopping each on its
own would score a length no refit can reproduce, each chosen on the very fold it is scored on.

Two ways to run the folds, with the same results (up to the summation order of the
products): "stacked", all folds as one stacked network (dnn.stacked_trainer), and
"lockstep", one dnn.Trainer per fold stepped in turn (the reference). choose_method picks
the faster one for the network and data (see its docstring).
"""
from dataclasses import replace

import numpy as np

from dnn import Trainer, evaluate
from dnn.data import stratified_folds
from dnn.settings import settings_from
from dnn.stopping import EarlyStopping
from dnn.span import span_applies
from dnn.stacked_trainer import StackedTrainer

METHODS = ("stacked", "lockstep")


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


def choose_method(n_x, m, model, train, folds, n_y=1):
    """"stacked" with mini-batches, or where the span path of the first layer applies;
    in full batch otherwise, "stacked" only where the first layer's products are most of
    the work and the first hidden layer is not both wide and long.

    With mini-batches each fold computes on its own batch either way: stacked runs the
    same products batched over the folds, in fewer calls, and pays most on small networks
    and batches. Measured on digits (bench/bench_cv_speed.py, docs/benchmarks.md:
    Cross-validation speed): 1.3-1.6x lockstep's speed with [64, 32] and batches of 64
    and 256.

    In full batch, stacked computes every layer on all m columns (a fold's own m (K-1)/K
    plus its held-out ones, masked), K/(K-1) the lockstep work on F times larger arrays,
    and in return reads X once for all folds in a first layer F times taller: a narrow
    first layer's product on a wide input goes from memory-bound to compute-bound. That
    pays only where the first layer is most of the products: measured (bench_cv_speed.py
    --widths: adam, m = 1,800, 10 classes), stacked is 0.69-1.02x lockstep's speed where
    n1 n_x < 8 x the deeper layers' sum of n[l] n[l-1] (64 inputs under [64, 32]: 0.69x)
    and 1.02-1.63x above it; the course's network, [784, 32, 16, 10] and
    [784, 128, 64, 10] on 2,000 examples 1.2-4.6x. On a first layer both wide and long
    it stops paying (0.55-0.8x with n1 = 256 on 10,000 columns: stacked arrays of
    F x 20 MB): lockstep is kept when n1 > 64 and n1 m > 10^6.

    The span path (dnn/span.py: full batch, gd or momentum, m <= n_x) takes the first
    layer's products off X: 2 F n1 m^2 FLOPs an iteration instead of 4 F n1 n_x m; a
    5-fold trial on the course's network costs 0.05x one plain fit; it is taken up to
    m = n_x, where it is 1.3-1.9x the dense first layer's speed.
    """
    if train.batch_size is not None and train.batch_size < m * (folds - 1) // folds:
        return "stacked"
    if span_applies(n_x, m, train.optimizer, full_batch=True):
        return "stacked"
    dims = [n_x, *model.hidden_units, n_y]
    deeper = sum(dims[l] * dims[l - 1] for l in range(2, len(dims)))
    n1 = dims[1]
    if n1 * n_x < 8 * deeper or (n1 > 64 and n1 * m > 1e6):
        return "lockstep"
    return "stacked"


class Lockstep:
    """One dnn.Trainer per fold, stepped in turn: the reference for StackedTrainer."""

    def __init__(self, X, Y, splits, seeds, model, train):
        self.trainers = [Trainer(X[:, tr], Y[:, tr], model, replace(train, seed=s),
                                 validation=(X[:, va], Y[:, va]))
                         for (_, tr, va), s in zip(splits, seeds)]
        period = max(t.eval_period for t in self.trainers)  # as StackedTrainer: together
        for t in self.trainers:
            t.eval_period = period

    @property
    def done(self):
        return self.trainers[0].done

    def step(self):
        costs, metrics = zip(*(t.step() for t in self.trainers))
        return list(costs), list(metrics)

    def parameters(self, n):
        return self.trainers[n].parameters


class Stacked(StackedTrainer):
    """The folds as one stacked network; first_layer: "span", "dense" or None (the
    trainer's choice), recorded as first_layer."""

    def __init__(self, X, Y, splits, seeds, model, train, first_layer=None):
        super().__init__(X, Y, [tr for _, tr, _ in splits], model, train, seeds,
                         validation_columns=[va for _, _, va in splits],
                         first_layer=first_layer)


def fold_runner(X, Y, splits, seeds, model, train, folds, method=None):
    """The splits' trainers, stepped together: method "stacked", "lockstep" or None
    (choose_method's pick for K=folds)."""
    method = method or choose_method(*X.shape, model, train, folds, Y.shape[0])
    return {"stacked": Stacked, "lockstep": Lockstep}[method](X, Y, splits, seeds, model, train)


def cross_validate(data, fit_kwargs, folds, repeats, data_seed, callback, method=None,
                   stopping=None):
    """Train every fold, all advancing one iteration at a time. callback(i, mean_cost,
    mean_metrics, fold_metrics) after each iteration; returning True stops all folds.
    method: "stacked", "lockstep" or None (choose_method). With train.patience set, the
    folds stop together on the mean of train.stop_metric and keep the parameters of its
    best evaluation; stopping, a list, then receives the EarlyStopping. Returns (mean
    costs, finals, parameters of each fold, per-fold finals)."""
    X, Y, y = training_pool(data)
    model, train = settings_from(**fit_kwargs)
    stopper = EarlyStopping.from_settings(train)
    train = replace(train, patience=None)  # the folds' own trainers never stop alone
    splits = fold_splits(y, folds, repeats, data_seed)
    seeds = [train.seed + n // folds for n in range(len(splits))]  # a new init each repeat
    folds_run = fold_runner(X, Y, splits, seeds, model, train, folds, method)
    costs = []
    while not folds_run.done:
        fold_costs, fold_metrics = folds_run.step()
        costs.append(float(np.mean(fold_costs)))
        per_fold = {name: m for (name, _, _), m in zip(splits, fold_metrics) if m}
        mean = mean_metrics(per_fold) if per_fold else {}
        snapshot = lambda: [_copy(folds_run.parameters(n)) for n in range(len(splits))]  # noqa: E731
        if stopper is not None and mean and stopper.update(len(costs) - 1, mean, snapshot):
            callback(len(costs) - 1, costs[-1], mean, per_fold)
            break
        if callback(len(costs) - 1, costs[-1], mean, per_fold):
            break
    if stopping is not None and stopper is not None:
        stopping.append(stopper)
    finals, parameters = {}, {}
    for n, (name, tr, va) in enumerate(splits):
        p = folds_run.parameters(n) if stopper is None else stopper.best_parameters[n]
        X_tr, Y_tr = (a[:, tr].astype(train.dtype, copy=False) for a in (X, Y))
        finals[name] = {**evaluate(p, X[:, va], Y[:, va], model.activation, "val_"),
                        "train_accuracy": evaluate(p, X_tr, Y_tr, model.activation)["accuracy"]}
        parameters.update({f"{name}.{k}": v for k, v in p.items()})
    return costs, mean_metrics(finals, with_std=True), parameters, finals


def _copy(parameters):
    return {k: v.copy() for k, v in parameters.items()}


def mean_metrics(per_fold, with_std=False):
    """Mean of each metric over folds, and its standard deviation (the spread)."""
    keys = next(iter(per_fold.values())).keys()
    out = {k: float(np.mean([m[k] for m in per_fold.values()])) for k in keys}
    if with_std:
        out.update({f"{k}_std": float(np.std([m[k] for m in per_fold.values()])) for k in keys})
    return out
