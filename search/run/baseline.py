"""What a model that learns nothing scores under the very protocol the trials use, and the
class balance of every split.

The baseline predicts the class proportions of the data it is fitted on (the training part
of the split, or of each fold) for every example; what that scores is each score's entry in
the score table (dnn.metrics.SCORES): the cross-entropy of that prior, the share of the
training majority class among the evaluated examples, a balanced accuracy of 1/K, a ROC AUC
of 0.5 (constant scores). scikit-learn's DummyClassifier(strategy="prior") scores the same
(tests/search/run/test_baseline.py).
"""
from dataclasses import dataclass, field

import numpy as np

from dnn.metrics import SCORES
from search.run.cv import fold_splits, training_pool


def prior_scores(y_fit, y_eval, n_classes):
    """{"cost", "accuracy", "balanced_accuracy", "auc"}: every score of predicting the
    class proportions of y_fit for every example of y_eval (integer labels)."""
    y_fit, y_eval = np.asarray(y_fit, dtype=int), np.asarray(y_eval, dtype=int)
    prior = np.bincount(y_fit, minlength=n_classes) / y_fit.size
    return {name: s.baseline(prior, y_eval) for name, s in SCORES.items()}


def majority_share(y, n_classes):
    """Training accuracy of the baseline: the share of the majority class."""
    return float(np.bincount(np.asarray(y, dtype=int), minlength=n_classes).max() / len(y))


def labels(Y):
    return None if Y is None else (Y[0].astype(int) if Y.shape[0] == 1 else Y.argmax(axis=0))


@dataclass
class Baselines:
    """values: {"val_cost": ..., "train_accuracy": ...} averaged over the protocol's
    splits; folds: {"fold_1": {"val_cost": ...}} under cross-validation."""

    values: dict
    folds: dict = field(default_factory=dict)


def run_baselines(data, folds=None, repeats=1, data_seed=1):
    """The baselines of a run's protocol: the K folds (x R repeats) of the training data,
    else the validation split, else the test split; each fitted on its training part."""
    n = n_classes(data)
    if folds:
        _, _, y = training_pool(data)
        per_fold = {}
        for name, tr, va in fold_splits(y, folds, repeats, data_seed):
            per_fold[name] = {**{f"val_{k}": v for k, v in prior_scores(y[tr], y[va], n).items()},
                              "train_accuracy": majority_share(y[tr], n)}
        keys = next(iter(per_fold.values()))
        return Baselines({k: float(np.mean([f[k] for f in per_fold.values()])) for k in keys},
                         per_fold)
    split, Y_eval = ("val", data.Y_val) if data.Y_val is not None else ("test", data.Y_test)
    values = {"train_accuracy": majority_share(data.y_train, n)}
    if Y_eval is not None:
        scores = prior_scores(data.y_train, labels(Y_eval), n)
        values.update({f"{split}_{k}": v for k, v in scores.items()})
    return Baselines(values)


def refit_baselines(data):
    """test_* baselines of a model fitted on all training data (the refit's protocol)."""
    if data.Y_test is None:
        return {}
    _, _, y = training_pool(data)
    return {f"test_{k}": v for k, v in prior_scores(y, labels(data.Y_test), n_classes(data)).items()}


def n_classes(data):
    return max(len(data.classes), data.Y_train.shape[0] if data.Y_train.shape[0] > 1 else 2)


def class_counts(data, folds=None, repeats=1, data_seed=1):
    """{split: counts per class}: train and val (or the held-out part of each fold of the
    training data) and test, as the runs of this protocol see them."""
    n = n_classes(data)
    count = lambda y: np.bincount(np.asarray(y, dtype=int), minlength=n)  # noqa: E731
    if folds:
        _, _, y = training_pool(data)
        out = {"train": count(y)}
        out.update({name: count(y[va]) for name, _, va in fold_splits(y, folds, repeats,
                                                                       data_seed)})
    else:
        out = {"train": count(data.y_train)}
        if data.Y_val is not None:
            out["val"] = count(labels(data.Y_val))
    if data.Y_test is not None:
        out["test"] = count(labels(data.Y_test))
    return out


def describe_counts(counts, classes):
    """'209: non-cat 137 (65.6%), cat 72 (34.4%)'."""
    total = int(sum(counts))
    parts = [f"{name} {int(c)} ({100 * c / total:.1f}%)" for name, c in zip(classes, counts)]
    return f"{total}: " + ", ".join(parts)


def split_params(data, folds=None, repeats=1, data_seed=1):
    """The class balance of each split as run params: {"split.train": '209: ...', ...}."""
    classes = data.classes
    return {f"split.{name}": describe_counts(c, classes)
            for name, c in class_counts(data, folds, repeats, data_seed).items()}


SHIFT_POINTS = 10.0  # class proportions differing by more than this between train and test


def prior_shift(data):
    """(points, class, train %, test %) of the class whose share differs most between all
    training data and the test split, when it differs by more than SHIFT_POINTS; else None."""
    if data.Y_test is None:
        return None
    n = n_classes(data)
    _, _, y = training_pool(data)
    train = 100 * np.bincount(y, minlength=n) / y.size
    test_y = labels(data.Y_test)
    test = 100 * np.bincount(test_y, minlength=n) / test_y.size
    c = int(np.abs(train - test).argmax())
    points = float(abs(train[c] - test[c]))
    return (points, data.classes[c], float(train[c]), float(test[c])) if points > SHIFT_POINTS \
        else None


@dataclass
class DataSummary:
    """The class balance of every split of a protocol, for a summary or a report."""

    classes: list
    counts: dict       # {"train": array of counts per class, "fold_1": ..., "test": ...}
    shift: tuple = None  # prior_shift(data): (points, class, train %, test %) or None

    def lines(self):
        """'train   209: non-cat 137 (65.6%), cat 72 (34.4%)', one line per split."""
        width = max(len(name) for name in self.counts)
        return [f"{name:<{width}}  {describe_counts(c, self.classes)}"
                for name, c in self.counts.items()]


def data_summary(data, folds=None, repeats=1, data_seed=1):
    return DataSummary(list(data.classes), class_counts(data, folds, repeats, data_seed),
                       prior_shift(data))
