"""The scores of a network, and the score table SCORES: the one place a score is defined.

Labels and outputs follow the network's layout (examples as columns): Y is (1, m) of 0/1
or one-hot (n_classes, m); AL the output probabilities of the same shape. Balanced accuracy
and ROC AUC stay honest on small and imbalanced data; they equal scikit-learn's
balanced_accuracy_score and roc_auc_score (one-vs-rest, macro average, for several
classes); tests/dnn/test_metrics.py checks every entry of SCORES against scikit-learn.

Each entry of SCORES says which side is better, what the score means, what a model that
learns nothing predicts and scores (the baseline), and how the score moves when the
evaluated examples are resampled (the bootstrap spread of a single split's score; under
cross-validation the spread is that across folds). Everything else derives from it: the
scores dnn.evaluate reports, the metrics a study may select on and their directions
(search.config.search), the baselines (search.run.baseline), the bootstrap spread
(search.run.metrics) and the verdict's sentence (search.sweep.verdict).
"""
import warnings
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

PAIRWISE_LIMIT = 4_000_000  # positive x negative pairs for the AUC's bootstrap spread


def labels_of(Y):
    """Integer labels (m,) from a (1, m) 0/1 row or one-hot (n_classes, m) columns."""
    return Y[0].astype(int) if Y.shape[0] == 1 else Y.argmax(axis=0)


def predicted_labels(AL):
    """Predicted labels (m,): threshold 0.5 for one sigmoid row, argmax for softmax."""
    return (AL[0] > 0.5).astype(int) if AL.shape[0] == 1 else AL.argmax(axis=0)


def true_class_losses(y, AL):
    """-log of the probability outputs AL (n_y, m) give each example's label y (m,): (m,),
    in float64, a probability of 0 counted as 1e-300 so that the loss stays finite."""
    m = y.size
    p_true = AL[y, np.arange(m)] if AL.shape[0] > 1 else np.where(y == 1, AL[0], 1 - AL[0])
    return -np.log(np.clip(p_true.astype(np.float64), 1e-300, 1.0))


def cross_entropy(Y, AL):
    """Mean cross-entropy of probabilities AL (n_y, m) against labels Y (one row of 0/1 or
    one-hot rows): the cost of a model that has probabilities but no logits (an ensemble)."""
    return float(true_class_losses(predicted_labels(Y), AL).mean())


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


def _accuracy(Y, AL):
    return float(np.mean(predicted_labels(AL) == labels_of(Y)))


def _balanced_accuracy(Y, AL):
    return balanced_accuracy(labels_of(Y), predicted_labels(AL))


# Baselines: the score of predicting the class proportions `prior` (n_classes,) of the
# training data for every example of y_eval (integer labels): the majority class as label,
# the same probabilities (so the same ranking score) for every example.

def _prior_cost(prior, y_eval):
    with np.errstate(divide="ignore"):
        return float(-np.mean(np.log(prior[y_eval])))  # inf when a class was never seen


def _prior_accuracy(prior, y_eval):
    return float(np.mean(y_eval == int(prior.argmax())))  # the first of equals, as scikit-learn's


def _prior_balanced_accuracy(prior, y_eval):
    return float(np.mean(np.unique(y_eval) == int(prior.argmax())))


def _prior_auc(prior, y_eval):
    return 0.5 if np.unique(y_eval).size > 1 else float("nan")


# Resampled scores: each row of W (B, m) counts how often each of the m examples is drawn;
# the score of every resample at once, (B,), from labels y (m,) and outputs AL (n_y, m).

def _correct(y, AL):
    return (predicted_labels(AL) == y).astype(float)


def _resampled_cost(W, y, AL):
    return W @ true_class_losses(y, AL) / y.size


def _resampled_accuracy(W, y, AL):
    return W @ _correct(y, AL) / y.size


def _resampled_balanced_accuracy(W, y, AL):
    correct = _correct(y, AL)
    recalls = [W[:, y == c] @ correct[y == c] / W[:, y == c].sum(axis=1) for c in np.unique(y)]
    return np.nanmean(recalls, axis=0)


def _weighted_auc(W, scores, positive):
    """ROC AUC of each resample (a row of counts in W), from the pairwise comparison of
    positives and negatives; None when there are too many pairs."""
    s_pos, s_neg = scores[positive], scores[~positive]
    if s_pos.size * s_neg.size > PAIRWISE_LIMIT or not s_pos.size or not s_neg.size:
        return None
    C = (s_pos[:, None] > s_neg[None, :]) + 0.5 * (s_pos[:, None] == s_neg[None, :])
    W_pos, W_neg = W[:, positive], W[:, ~positive]  # (B, m_pos), (B, m_neg)
    num = np.einsum("bi,ij,bj->b", W_pos, C, W_neg)  # (B,): weighted pairs ranked right
    return num / (W_pos.sum(axis=1) * W_neg.sum(axis=1))


def _resampled_auc(W, y, AL):
    """None when some class has too many pairs to compare."""
    classes = np.unique(y)
    scores = [AL[0]] if AL.shape[0] == 1 else [AL[c] for c in classes]
    positives = [y == 1] if AL.shape[0] == 1 else [y == c for c in classes]
    aucs = [_weighted_auc(W, s, pos) for s, pos in zip(scores, positives)]
    return np.nanmean(aucs, axis=0) if all(a is not None for a in aucs) else None


@dataclass(frozen=True)
class Score:
    higher_is_better: bool
    meaning: str                  # what the score measures, in a line a user reads
    baseline_predicts: str        # what a model that learns nothing predicts, in words
    baseline: Callable            # (prior, y_eval) -> its score (see _prior_cost)
    resampled: Callable           # (W, y, AL) -> (B,) scores of bootstrap resamples, or None
    value: Optional[Callable] = None  # (Y, AL) -> float; None: the network's own cost

    @property
    def direction(self):
        """The study direction that makes the score better: maximize or minimize."""
        return "maximize" if self.higher_is_better else "minimize"


SCORES = {
    "cost": Score(False, "cross-entropy of the output probabilities, the training objective",
                  "the training class proportions for every example",
                  _prior_cost, _resampled_cost),
    "accuracy": Score(True, "share of examples whose predicted class is right",
                      "always the training majority class",
                      _prior_accuracy, _resampled_accuracy, _accuracy),
    "balanced_accuracy": Score(True, "mean recall over the classes, 1/K by chance",
                               "one class for every example",
                               _prior_balanced_accuracy, _resampled_balanced_accuracy,
                               _balanced_accuracy),
    "auc": Score(True, "ROC AUC of the outputs, one-vs-rest averaged over the classes; "
                 "0.5 by chance",
                 "the same score for every example", _prior_auc, _resampled_auc, roc_auc),
}


def scores(Y, AL):
    """{"accuracy", "balanced_accuracy", "auc", ...}: every score of SCORES but the cost
    (the network's, from its logits) of outputs AL against labels Y."""
    return {name: s.value(Y, AL) for name, s in SCORES.items() if s.value is not None}


def resampled_scores(W, y, AL):
    """{score: (B,) array} of every score under each bootstrap resample (a row of counts of
    W (B, m)); a score too costly to resample is left out."""
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a resample without some class
        for name, s in SCORES.items():
            values = s.resampled(W, y, AL)
            if values is not None:
                out[name] = values
    return out
