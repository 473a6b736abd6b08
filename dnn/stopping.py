"""Early stopping on the validation curve: stop once the watched metric has gone `patience`
evaluations without improving on its best by more than `min_delta`, and keep the
parameters of its best evaluation.

As scikit-learn's MLPClassifier (n_iter_no_change, tol): an evaluation better than the best
by more than min_delta resets the count; any better evaluation becomes the best (and its
parameters the ones kept).
"""
import copy

from dnn.metrics import SCORES

# The validation scores dnn.evaluate computes (the score table), and whether higher is better.
STOP_METRICS = {f"val_{name}": score.higher_is_better for name, score in SCORES.items()}


class EarlyStopping:
    """Watches one validation metric at the evaluation steps of a training.

    update(i, metrics, parameters) after each evaluation at iteration i; parameters (any
    nest of dicts and lists of arrays, or a function returning a fresh copy of them) are
    copied when the evaluation is the best so far. stopped is True once patience evaluations in a row did not improve by min_delta;
    best_iteration and best_parameters are those of the best evaluation."""

    def __init__(self, metric="val_cost", patience=10, min_delta=0.0):
        if metric not in STOP_METRICS:
            raise ValueError(f"unknown stop_metric {metric!r}; allowed: {', '.join(STOP_METRICS)}")
        self.metric, self.patience, self.min_delta = metric, patience, min_delta
        self.sign = 1.0 if STOP_METRICS[metric] else -1.0  # sign * value: higher is better
        self.best, self.best_iteration, self.best_parameters = None, None, None
        self.stale, self.stopped = 0, False

    @classmethod
    def from_settings(cls, train):
        """The stopper TrainSettings asks for (patience set), else None."""
        if train.patience is None:
            return None
        return cls(train.stop_metric or "val_cost", train.patience, train.min_delta)

    def update(self, i, metrics, parameters):
        """Record the evaluation at iteration i; returns stopped."""
        if self.metric not in metrics:
            return self.stopped
        value = self.sign * metrics[self.metric]
        if self.best is None or value > self.best + self.min_delta:
            self.stale = 0
        else:
            self.stale += 1
        if self.best is None or value > self.best:
            self.best, self.best_iteration = value, i
            self.best_parameters = parameters() if callable(parameters) \
                else copy.deepcopy(parameters)
        self.stopped = self.stale >= self.patience
        return self.stopped

    @property
    def best_value(self):
        return None if self.best is None else self.sign * self.best

    def summary(self, last_iteration, ceiling):
        """Where training ended, in one line (a run's tag)."""
        if self.best is None:
            return f"no {self.metric} evaluated: ran {last_iteration + 1} of {ceiling} iterations"
        where = (f"stopped at iteration {last_iteration} of {ceiling}" if self.stopped
                 else f"ran to the ceiling of {ceiling} iterations")
        return (f"{where}; best {self.metric} {self.best_value:.6g} at iteration "
                f"{self.best_iteration} (patience {self.patience}, min_delta {self.min_delta})")
