"""The cost curves of a study: one line per finished trial, from the runs' metric histories."""
import math

import optuna
import pytest
from helpers import log_curve
from mlflow import MlflowClient
from mlflow.entities import Metric
from optuna.distributions import CategoricalDistribution, FloatDistribution

from search.report import curves

S = optuna.trial.TrialState
LR = FloatDistribution(1e-3, 1.0, log=True)


@pytest.fixture
def store(tmp_path):
    client = MlflowClient(f"sqlite:///{tmp_path}/mlflow.db")
    return client, client.create_experiment("e", artifact_location=(tmp_path / "a").as_uri())


def study_trials(client, exp, n_complete=4, n_pruned=2, n_failed=1):
    trials = []
    for i in range(n_complete + n_pruned + n_failed):
        lr = 10 ** (-3 + i / 3)
        state = S.COMPLETE if i < n_complete else S.PRUNED if i < n_complete + n_pruned else S.FAIL
        n = 30 if state == S.COMPLETE else 12
        rid = log_curve(client, exp, [1.0 / (1 + lr * k) for k in range(n)],
                        [1.2 / (1 + lr * k) for k in range(0, n, 10)])
        t = optuna.trial.create_trial(state=state, value=0.5 if state == S.COMPLETE else None,
                                      params={"train.learning_rate": lr,
                                              "model.activation": ["relu", "tanh"][i % 2]},
                                      distributions={"train.learning_rate": LR,
                                                     "model.activation": CategoricalDistribution(["relu", "tanh"])},
                                      user_attrs={"mlflow_run_id": rid})
        t.number = i
        trials.append(t)
    return trials


@pytest.mark.slow
def test_one_curve_per_finished_trial_pruned_marked_failed_counted(store, tmp_path):
    client, exp = store
    trials = study_trials(client, exp)
    histories = curves.fetch_histories(client, [t.user_attrs["mlflow_run_id"] for t in trials],
                                       ["train_cost", "val_cost"])
    cs = curves.collect(trials, histories, "train_cost", "train.learning_rate")
    assert [c.number for c in cs.curves] == [0, 1, 2, 3, 4, 5] and cs.n_failed == 1
    assert [c.state for c in cs.curves] == ["COMPLETE"] * 4 + ["PRUNED"] * 2
    pruned = cs.curves[4]
    assert pruned.steps == list(range(12)) and pruned.steps[-1] == 11  # where it stopped
    # the points are the run's own history, value for value
    expected = [m.value for m in client.get_metric_history(pruned.run_id, "train_cost")]
    assert pruned.values == expected
    assert cs.curves[2].color_value == pytest.approx(10 ** (-3 + 2 / 3))
    assert cs.color_kind == "log" and cs.log_y is False  # costs within a factor of 20
    val = curves.collect(trials, histories, "val_cost", "model.activation")
    assert val.curves[0].steps == [0, 10, 20] and val.color_kind == "categorical"
    text = curves.caption(cs)
    assert "6 trials (2 pruned" in text and "1 failed trial(s) not shown" in text
    assert curves.draw(cs, tmp_path / "c.png").stat().st_size > 1000
    assert curves.draw(val, tmp_path / "v.png").stat().st_size > 1000


def test_log_scale_where_the_values_span_decades():
    t = optuna.trial.create_trial(value=0.1, user_attrs={"mlflow_run_id": "r"})
    cs = curves.collect([t], {"r": {"train_cost": [(0, 1.0), (1, 0.01)]}}, "train_cost", None)
    assert cs.log_y and cs.color_kind == "none"
    cs = curves.collect([t], {"r": {"train_cost": [(0, 1.0), (1, 0.5)]}}, "train_cost", None)
    assert not cs.log_y


def test_two_hundred_trials_draw_into_one_figure(tmp_path):
    trials, histories = [], {}
    for i in range(200):
        state = S.PRUNED if i % 3 else S.COMPLETE
        t = optuna.trial.create_trial(state=state, value=0.1 if state == S.COMPLETE else None,
                                      params={"train.learning_rate": 10 ** (-3 + 3 * i / 200)},
                                      distributions={"train.learning_rate": LR},
                                      user_attrs={"mlflow_run_id": f"r{i}"})
        t.number = i
        trials.append(t)
        n = 3000 if state == S.COMPLETE else 500
        histories[f"r{i}"] = {"train_cost": [(k, math.exp(-k / (100 + i))) for k in range(n)]}
    cs = curves.collect(trials, histories, "train_cost", "train.learning_rate")
    assert len(cs.curves) == 200 and sum(c.state == "PRUNED" for c in cs.curves) == 133
    assert cs.log_y
    assert curves._thin(cs.curves[0].steps, cs.curves[0].values)[-1] == (2999, cs.curves[0].values[-1])
    assert len(curves._thin(cs.curves[0].steps, cs.curves[0].values)) <= curves.MAX_POINTS + 1
    assert curves.draw(cs, tmp_path / "c.png").is_file()


def test_an_int_with_few_values_gets_a_legend_a_wide_one_a_colour_scale(tmp_path):
    from optuna.distributions import IntDistribution

    def one(dist, value):
        t = optuna.trial.create_trial(value=0.1, params={"p": value}, distributions={"p": dist},
                                      user_attrs={"mlflow_run_id": "r"})
        return curves.collect([t], {"r": {"train_cost": [(0, 1.0), (1, 0.5)]}}, "train_cost", "p")

    depth = one(IntDistribution(1, 4), 3)
    assert depth.color_kind == "categorical"
    assert one(IntDistribution(2, 32, log=True), 8).color_kind == "log"
    assert one(IntDistribution(500, 3000, step=500), 1000).color_kind == "categorical"
    assert curves.draw(depth, tmp_path / "d.png").is_file()


def two_depths(units_dist):
    """Four trials coloured by model.hidden_units.units_2: two with one layer (no units_2),
    two with two layers."""
    from optuna.distributions import IntDistribution

    trials, histories = [], {}
    for i, units in enumerate([[4], [3, 2], [6], [5, 8]]):
        params = {"model.hidden_units.depth": len(units),
                  **{f"model.hidden_units.units_{k + 1}": u for k, u in enumerate(units)}}
        dists = {"model.hidden_units.depth": IntDistribution(1, 2),
                 **{f"model.hidden_units.units_{k + 1}": units_dist for k in range(len(units))}}
        t = optuna.trial.create_trial(value=0.1, params=params, distributions=dists,
                                      user_attrs={"mlflow_run_id": f"r{i}"})
        t.number = i
        trials.append(t)
        histories[f"r{i}"] = {"train_cost": [(0, 1.0), (1, 0.5 + i / 10)]}
    return curves.collect(trials, histories, "train_cost", "model.hidden_units.units_2")


@pytest.mark.parametrize("wide", [True, False])
def test_trials_without_the_colouring_layer_are_named_in_the_legend(tmp_path, wide):
    from optuna.distributions import IntDistribution

    cs = two_depths(IntDistribution(2, 32, log=True) if wide else IntDistribution(2, 8))
    key = curves.colour_key(cs)
    grey = (0.5, 0.5, 0.5, 1.0)
    assert ("no layer 2", grey) in key.legend
    assert [c for c, curve in zip(key.colors, cs.curves) if curve.color_value is None] == [grey] * 2
    named = {tuple(color) for _, color in key.legend}
    if wide:  # the widths on a colour bar, the one-layer trials in the legend
        assert cs.color_kind == "log" and key.scale is not None
        norm, cmap = key.scale
        assert key.colors[1] == cmap(norm(2)) and key.colors[3] == cmap(norm(8))
    else:  # every colour in the legend, one entry per width and one for "no layer 2"
        assert cs.color_kind == "categorical" and key.scale is None
        assert [label for label, _ in key.legend] == ["2", "8", "no layer 2"]
        assert {tuple(c) for c in key.colors} <= named
    assert curves.draw(cs, tmp_path / "c.png").is_file()
