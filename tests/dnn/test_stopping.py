"""Early stopping: fit with patience stops where the rule says on the curve of the same
training run to the end, and returns the parameters that run had at its best evaluation."""
import numpy as np
import pytest

from dnn import Trainer, TrainSettings, fit
from dnn.data import load_dataset
from dnn.settings import eval_period, fixed_length, passes, settings_from
from dnn.stopping import EarlyStopping

KW = dict(hidden_units=[16], activation="relu", init="he", learning_rate=0.05,
          optimizer="adam", eval_every=5, seed=3)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0)


def full_run(d, **kw):
    """Every evaluation of a training run to the end: [(i, metrics, parameters copy)]."""
    trainer = Trainer(d.X_train, d.Y_train, *settings_from(**kw), validation=(d.X_val, d.Y_val))
    seen = []
    while not trainer.done:
        _, metrics = trainer.step()
        if metrics:
            seen.append((len(trainer.costs) - 1, metrics,
                         {k: v.copy() for k, v in trainer.parameters.items()}))
    return seen


def expected_stop(seen, metric, patience, min_delta, higher):
    """The rule, written out: (stop iteration, best iteration) on a run's evaluations."""
    sign = 1 if higher else -1
    best, best_i, stale = None, None, 0
    for i, metrics, _ in seen:
        value = sign * metrics[metric]
        stale = 0 if best is None or value > best + min_delta else stale + 1
        if best is None or value > best:
            best, best_i = value, i
        if stale >= patience:
            return i, best_i
    return seen[-1][0], best_i


@pytest.mark.parametrize("metric, patience, min_delta", [
    ("val_cost", 3, 0.0), ("val_accuracy", 4, 0.0), ("val_cost", 2, 0.01)])
def test_fit_stops_where_the_rule_says_and_keeps_the_best_evaluation(digits, metric, patience,
                                                                      min_delta):
    kw = {**KW, "num_iterations": 300}
    seen = full_run(digits, **kw)
    stop, best = expected_stop(seen, metric, patience, min_delta, metric != "val_cost")
    assert stop < 299  # the case stops before the ceiling
    stopping = []
    p, costs = fit(digits.X_train, digits.Y_train, validation=(digits.X_val, digits.Y_val),
                   patience=patience, min_delta=min_delta, stop_metric=metric,
                   stopping=stopping, **kw)
    assert len(costs) == stop + 1
    assert stopping[0].stopped and stopping[0].best_iteration == best
    kept = next(params for i, _, params in seen if i == best)
    for k, v in kept.items():
        np.testing.assert_array_equal(p[k], v)


def test_at_the_ceiling_the_best_evaluation_is_kept_too(digits):
    kw = {**KW, "num_iterations": 60, "learning_rate": 0.3}  # too fast: the curve goes back up
    seen = full_run(digits, **kw)
    best = min(seen, key=lambda e: e[1]["val_cost"])
    assert best[0] != 59
    stopping = []
    p, costs = fit(digits.X_train, digits.Y_train, validation=(digits.X_val, digits.Y_val),
                   patience=1000, stopping=stopping, **kw)
    assert len(costs) == 60 and not stopping[0].stopped
    assert stopping[0].best_iteration == best[0]
    for k, v in best[2].items():
        np.testing.assert_array_equal(p[k], v)


def test_without_a_validation_split_nothing_stops(digits):
    _, costs = fit(digits.X_train, digits.Y_train, patience=1, num_iterations=20, **KW)
    assert len(costs) == 20


def test_mini_batches_count_epochs_and_evaluate_every_eval_every_updates(digits):
    m = digits.X_train.shape[1]
    train = TrainSettings(batch_size=64, num_epochs=7, num_iterations=1000, eval_every=50)
    assert passes(train) == 7 and passes(TrainSettings(num_iterations=9)) == 9
    per_epoch = -(-m // 64)
    assert eval_period(train, m) == 50 // per_epoch
    assert eval_period(TrainSettings(batch_size=64, eval_every=1), m) == 1
    seen = []
    _, costs = fit(digits.X_train, digits.Y_train, validation=(digits.X_val, digits.Y_val),
                   hidden_units=[8], batch_size=64, num_epochs=7, eval_every=2 * per_epoch,
                   callback=lambda i, c, metrics: seen.append(i) if metrics else None)
    assert len(costs) == 7 and seen == [0, 2, 4, 6]


def test_the_refit_length_is_the_best_iteration_plus_one():
    assert fixed_length(TrainSettings(), 41) == {"num_iterations": 42, "patience": None}
    assert fixed_length(TrainSettings(batch_size=32), 9) == {"num_epochs": 10, "patience": None}


@pytest.mark.parametrize("kw, message", [
    ({"patience": 0}, "patience must be a positive integer"),
    ({"min_delta": -1.0}, "min_delta must be in [0, inf]"),
    ({"stop_metric": "val_f1"}, "unknown stop_metric 'val_f1'"),
    ({"num_epochs": 0}, "num_epochs must be a positive integer"),
])
def test_bad_settings_are_refused(kw, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        TrainSettings(**kw)


def test_an_unknown_metric_is_refused_by_the_stopper():
    with pytest.raises(ValueError, match="val_f1"):
        EarlyStopping("val_f1")
