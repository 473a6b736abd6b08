"""What the scores of a run mean, read from the score table (dnn.metrics.SCORES): their
names and direction, and the bootstrap spread of a single split's score."""
import numpy as np

from dnn.metrics import SCORES, labels_of, resampled_scores

# The validation scores a study can select on (dnn.evaluate computes each of them).
SELECTION_METRICS = tuple(f"val_{name}" for name in SCORES)
BOOTSTRAP_SAMPLES = 200


def score_name(metric):
    """"auc" for val_auc, test_auc, fold_2/val_auc; None for n_parameters and the like."""
    name = metric.rsplit("/", 1)[-1]
    for split in ("val_", "test_", "train_"):
        if name.startswith(split) and name[len(split):] in SCORES:
            return name[len(split):]
    return None


def better_direction(metric):
    """"maximize" or "minimize" for a score, None for metrics without a better side."""
    name = score_name(metric)
    return None if name is None else SCORES[name].direction


def bootstrap_spread(Y, AL, prefix="val_", samples=BOOTSTRAP_SAMPLES, seed=0):
    """{prefix + score + "_std"}: the standard deviation of each score over bootstrap
    resamples of the evaluated examples: the spread of a single split's score, where
    cross-validation has the spread across its folds. Y and AL: (n_y, m). A resample is
    a row of counts W (how often each example is drawn), so that each score is a
    weighted sum and all resamples are computed at once."""
    m = Y.shape[1]
    rng = np.random.RandomState(seed)
    W = rng.multinomial(m, np.full(m, 1.0 / m), size=samples).astype(float)  # (B, m)
    return {f"{prefix}{k}_std": float(np.nanstd(v))
            for k, v in resampled_scores(W, labels_of(Y), AL).items()}
