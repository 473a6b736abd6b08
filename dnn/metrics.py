"""Scores that stay honest on small and imbalanced data: balanced accuracy and ROC AUC.

Labels and outputs follow the network's layout (examples as columns): Y is (1, m) of 0/1
or one-hot (n_classes, m); AL the output probabilities of the same shape. Both scores
equal scikit-learn's balanced_accuracy_score and roc_auc_score (one-vs-rest, macro
average, for several classes); tests/test_metrics.py checks them against it.
"""
import numpy as np


def labels_of(Y):
    """Integer labels (m,) from a (1, m) 0/1 row or one-hot (n_classes, m) columns."""
    return Y[0].astype(int) if Y.shape[0] == 1 else Y.argmax(axis=0)


def predicted_labels(AL):
    """Predicted labels (m,): threshold 0.5 for one sigmoid row, argmax for softmax."""
    return (AL[0] > 0.5).astype(int) if AL.shape[0] == 1 else AL.argmax(axis=0)


def balanced_accuracy(y_true, y_pred):
    """Mean recall over the classes present in y_true (1/K for a constant prediction)."""
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    classes = np.unique(y_true)
    return float(np.mean([np.mean(y_pred[y_true == c] == c) for c in classes]))


def average_ranks(scores):
    """Ranks 1..m of scores, ties sharing their mean rank."""
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    # Blocks of equal scores: each gets the mean of the ranks it spans.
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], scores.size]
    block_rank = (starts + ends + 1) / 2.0
    ranks = np.empty(scores.size)
    ranks[order] = np.repeat(block_rank, ends - starts)
    return ranks


def binary_auc(is_positive, scores):
    """ROC AUC as the Mann-Whitney statistic: P(score of a positive > score of a negative),
    ties counted one half. NaN when one class is absent."""
    is_positive = np.asarray(is_positive, dtype=bool).ravel()
    n_pos = int(is_positive.sum())
    n_neg = is_positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = average_ranks(np.asarray(scores, dtype=float).ravel())
    return float((ranks[is_positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_auc(Y, AL):
    """ROC AUC of outputs AL against labels Y; one-vs-rest macro average for softmax
    outputs (over the classes present with both positives and negatives)."""
    if Y.shape[0] == 1:
        return binary_auc(Y[0] == 1, AL[0])
    y = labels_of(Y)
    aucs = [binary_auc(y == c, AL[c]) for c in np.unique(y)]
    aucs = [a for a in aucs if not np.isnan(a)]
    return float(np.mean(aucs)) if aucs else float("nan")


def scores(Y, AL):
    """{"accuracy", "balanced_accuracy", "auc"} of outputs AL against labels Y."""
    y_true, y_pred = labels_of(Y), predicted_labels(AL)
    return {"accuracy": float(np.mean(y_pred == y_true)),
            "balanced_accuracy": balanced_accuracy(y_true, y_pred),
            "auc": roc_auc(Y, AL)}
