"""A run's scores read from the score table: names, directions and the bootstrap spread."""
import numpy as np
import pytest
from sklearn.metrics import accuracy_score, log_loss

from dnn.metrics import SCORES
from search.run.metrics import SELECTION_METRICS, better_direction, bootstrap_spread, score_name


def test_names_and_directions_come_from_the_score_table():
    assert SELECTION_METRICS == tuple(f"val_{name}" for name in SCORES)
    assert score_name("fold_2/val_balanced_accuracy") == "balanced_accuracy"
    assert score_name("n_parameters") is None and better_direction("train_seconds") is None
    assert better_direction("test_auc") == "maximize"
    assert better_direction("val_cost") == "minimize"


def test_the_bootstrap_spread_is_the_std_of_the_scores_of_resampled_examples():
    rng = np.random.RandomState(0)
    m = 40
    y = (rng.rand(m) < 0.4).astype(int)
    AL = np.clip(rng.rand(1, m) * 0.7 + 0.3 * y, 0.01, 0.99)
    got = bootstrap_spread(y[None, :].astype(float), AL, "val_", samples=50, seed=7)
    assert set(got) == {f"val_{name}_std" for name in SCORES}
    draws = np.random.RandomState(7).multinomial(m, np.full(m, 1.0 / m), size=50)
    picks = [np.repeat(np.arange(m), counts) for counts in draws]
    costs = [log_loss(y[p], AL[0, p], labels=[0, 1]) for p in picks]
    accuracies = [accuracy_score(y[p], AL[0, p] > 0.5) for p in picks]
    assert got["val_cost_std"] == pytest.approx(np.std(costs), abs=1e-12)
    assert got["val_accuracy_std"] == pytest.approx(np.std(accuracies), abs=1e-12)
