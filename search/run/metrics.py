"""What the scores of a run mean: their direction, and what a model that learns nothing
scores under the same protocol (baselines)."""

from dnn.metrics import labels_of, predicted_labels
from search.config.search import BETTER

# The validation scores a study can select on (dnn.evaluate computes each of them).
SELECTION_METRICS = tuple(m for m in BETTER if m.startswith("val_"))
HIGHER_IS_BETTER = {"cost": False, "accuracy": True, "balanced_accuracy": True, "auc": True}


def score_name(metric):
    """"auc" for val_auc, test_auc, fold_2/val_auc; None for n_parameters and the like."""
    name = metric.rsplit("/", 1)[-1]
    for split in ("val_", "test_", "train_"):
        if name.startswith(split) and name[len(split):] in HIGHER_IS_BETTER:
            return name[len(split):]
    return None


def better_direction(metric):
    """"maximize" or "minimize" for a score, None for metrics without a better side."""
    name = score_name(metric)
    if name is None:
        return None
    return "maximize" if HIGHER_IS_BETTER[name] else "minimize"


BOOTSTRAP_SAMPLES = 200
PAIRWISE_LIMIT = 4_000_000  # positive x negative pairs for the AUC's spread


def bootstrap_spread(Y, AL, prefix="val_", samples=BOOTSTRAP_SAMPLES, seed=0):
    """{prefix + score + "_std"}: the standard deviation of each score over bootstrap
    resamples of the evaluated examples: the spread of a single split's score, where
    cross-validation has the spread across its folds. Y and AL: (n_y, m). A resample is
    a row of counts W (how often each example is drawn), so that each score is a
    weighted sum and all resamples are computed at once."""
    import warnings

    import numpy as np


    m = Y.shape[1]
    y = labels_of(Y)
    p_true = AL[y, np.arange(m)] if AL.shape[0] > 1 else np.where(y == 1, AL[0], 1 - AL[0])
    losses = -np.log(np.clip(p_true, 1e-300, 1.0))
    correct = (predicted_labels(AL) == y).astype(float)
    rng = np.random.RandomState(seed)
    W = rng.multinomial(m, np.full(m, 1.0 / m), size=samples).astype(float)  # (B, m)
    out = {"cost": W @ losses / m, "accuracy": W @ correct / m}
    classes = np.unique(y)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a resample without some class
        recalls = [W[:, y == c] @ correct[y == c] / W[:, y == c].sum(axis=1) for c in classes]
        out["balanced_accuracy"] = np.nanmean(recalls, axis=0)
        scores = [AL[0]] if AL.shape[0] == 1 else [AL[c] for c in classes]
        positives = [y == 1] if AL.shape[0] == 1 else [y == c for c in classes]
        aucs = [_weighted_auc(W, s, pos) for s, pos in zip(scores, positives)]
        if all(a is not None for a in aucs):
            out["auc"] = np.nanmean(aucs, axis=0)
    return {f"{prefix}{k}_std": float(np.nanstd(v)) for k, v in out.items()}


def _weighted_auc(W, scores, positive):
    """ROC AUC of each resample (a row of counts in W), from the pairwise comparison of
    positives and negatives; None when there are too many pairs."""
    import numpy as np

    s_pos, s_neg = scores[positive], scores[~positive]
    if s_pos.size * s_neg.size > PAIRWISE_LIMIT or not s_pos.size or not s_neg.size:
        return None
    C = (s_pos[:, None] > s_neg[None, :]) + 0.5 * (s_pos[:, None] == s_neg[None, :])
    W_pos, W_neg = W[:, positive], W[:, ~positive]  # (B, m_pos), (B, m_neg)
    num = np.einsum("bi,ij,bj->b", W_pos, C, W_neg)
    return num / (W_pos.sum(axis=1) * W_neg.sum(axis=1))
