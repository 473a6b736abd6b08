"""Coarse to fine: the narrowed space of a seeded study, and warm-started trials."""
import math

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.storages.journal import JournalFileBackend, JournalStorage

from search.config import ConfigError
from search.study import narrow

DIMS = {
    "train.learning_rate": {"type": "float", "low": 1e-3, "high": 1.0, "log": True},
    "train.num_iterations": {"type": "int", "low": 500, "high": 3000, "step": 500},
    "train.lambd": {"type": "float", "low": 0.0, "high": 0.1},
    "train.optimizer": {"type": "categorical", "choices": ["gd", "momentum", "adam"]},
    "model.hidden_units": {"type": "layers", "depth_low": 1, "depth_high": 4, "units_low": 2,
                           "units_high": 32, "log": True, "shared": False},
}
DISTS = {"train.learning_rate": FloatDistribution(1e-3, 1.0, log=True),
         "train.num_iterations": IntDistribution(500, 3000, step=500),
         "train.lambd": FloatDistribution(0.0, 0.1),
         "train.optimizer": CategoricalDistribution(["gd", "momentum", "adam"]),
         "model.hidden_units.depth": IntDistribution(1, 4)}
UNITS = IntDistribution(2, 32, log=True)


def make_trial(value, lr, iters, lambd, opt, units, run="r"):
    params = {"train.learning_rate": lr, "train.num_iterations": iters, "train.lambd": lambd,
              "train.optimizer": opt, "model.hidden_units.depth": len(units),
              **{f"model.hidden_units.units_{i + 1}": u for i, u in enumerate(units)}}
    dists = {**DISTS, **{f"model.hidden_units.units_{i + 1}": UNITS for i in range(len(units))}}
    return optuna.trial.create_trial(value=value, params=params, distributions=dists,
                                     user_attrs={"mlflow_run_id": run})


# The three best trials (top 0.2 of 10 -> at least 3) sit in a known corner: learning rate
# 0.01-0.1 (log scale), iterations at the top edge, L2 at the bottom edge.
TOP = [make_trial(0.10, 0.02, 3000, 0.0, "adam", [8, 4], "best"),
       make_trial(0.11, 0.01, 3000, 0.01, "momentum", [16]),
       make_trial(0.12, 0.1, 2500, 0.02, "adam", [4, 8])]
REST = [make_trial(0.5 + i / 10, 10 ** (-3 + i / 3), 500 + 500 * (i % 6), 0.05 + i / 200,
                   "gd", [2] * (1 + i % 4)) for i in range(7)]


@pytest.fixture
def old_study(tmp_path):
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "j.journal")))
    study = optuna.create_study(storage=storage, study_name="wide")
    study.add_trials([*REST, *TOP])
    return study


def allowed(path, value):
    return not (path == "train.lambd" and value < 0)  # what the run config refuses


def test_top_trials_are_the_best_fraction_and_at_least_three(old_study):
    top = narrow.top_trials(old_study.trials, old_study.directions[0], 0.2)
    assert [t.user_attrs["mlflow_run_id"] for t in top][:1] == ["best"] and len(top) == 3
    assert len(narrow.top_trials(old_study.trials, old_study.directions[0], 0.5)) == 5


def test_too_few_complete_trials_are_refused():
    with pytest.raises(ConfigError, match="2 complete trial"):
        narrow.top_trials(TOP[:2], optuna.study.StudyDirection.MINIMIZE, 0.2)


def test_narrowed_bounds_in_the_dimensions_own_scale_with_edge_extension(old_study):
    top = narrow.top_trials(old_study.trials, old_study.directions[0], 0.2)
    new = narrow.narrow_dims(DIMS, top, 0.25, allowed)
    lr = new["train.learning_rate"]
    # log10 span -2..-1 widened by 0.25 each side: 10**-2.25 .. 10**-0.75, rounded outward
    assert lr["low"] == pytest.approx(0.00562) and lr["high"] == pytest.approx(0.178)
    assert 10 ** -2.25 >= lr["low"] and lr["high"] >= 10 ** -0.75 and lr["log"] is True
    assert (repr(lr["low"]), repr(lr["high"])) == ("0.00562", "0.178")  # as space.yaml shows
    # the best trial sits at the top edge: 2500-3000 (+125 each side: 2375-3125) goes
    # beyond 3000, snapped outward to the 500-step grid
    assert (new["train.num_iterations"]["low"], new["train.num_iterations"]["high"]) == (2000, 3500)
    # the best trial sits at the bottom edge of L2, but below 0 is not allowed
    assert new["train.lambd"]["low"] == 0.0 and new["train.lambd"]["high"] == pytest.approx(0.025)
    assert new["train.optimizer"]["choices"] == ["momentum", "adam"]
    hu = new["model.hidden_units"]
    assert (hu["depth_low"], hu["depth_high"], hu["units_low"], hu["units_high"]) == (1, 2, 4, 16)


def test_a_wider_margin_and_a_linear_scale():
    spec = {"type": "float", "low": 0.0, "high": 10.0}
    assert narrow.narrow_range(spec, [4.0, 6.0], 5.0, 0.5) == (3.0, 7.0)
    assert narrow.narrow_range(spec, [4.0, 6.0], 5.0, 0.0) == (4.0, 6.0)
    # all top trials agree: a tenth of the old range around it
    assert narrow.narrow_range(spec, [5.0, 5.0], 5.0, 0.0) == (4.5, 5.5)
    low, high = narrow.narrow_range({**spec, "log": True, "low": 1e-4, "high": 1.0},
                                    [1e-4, 1e-3], 1e-4, 0.4)
    # the best sits at the low edge: one decade widened by 0.4 decade goes below 1e-4
    assert low == pytest.approx(3.98e-5) and high == pytest.approx(0.00252)
    assert low <= 10 ** -4.4 and high >= 10 ** -2.6


def test_span_rows_for_the_report(old_study):
    top = narrow.top_trials(old_study.trials, old_study.directions[0], 0.2)
    rows = {r[0]: r[1:] for r in narrow.span_rows(DIMS, top)}
    assert rows["train.learning_rate"] == ("0.001-1", "0.01-0.1")
    assert rows["train.optimizer"] == ("gd, momentum, adam", "momentum, adam")


def test_warm_start_keeps_the_trials_inside_and_links_their_runs(old_study, tmp_path):
    top = narrow.top_trials(old_study.trials, old_study.directions[0], 0.2)
    new_dims = narrow.narrow_dims(DIMS, top, 0.25, allowed)
    trials = narrow.warm_start_trials(old_study.trials, new_dims, "wide")
    assert sorted(t.values[0] for t in trials) == [0.10, 0.11, 0.12]
    assert {t.user_attrs["warm_start_from"] for t in trials} == {"wide#7", "wide#8", "wide#9"}
    assert "best" in {t.user_attrs["mlflow_run_id"] for t in trials}
    new = optuna.create_study(storage=old_study._storage, study_name="wide-fine")
    new.add_trials(trials)
    assert len(new.trials) == 3
    assert new.trials[0].distributions["train.learning_rate"].low == pytest.approx(0.00562)
    # the sampler accepts them: a new trial samples inside the narrowed space
    t = new.ask()
    from search.study.space import suggest
    values = suggest(t, new_dims)
    assert 0.00562 <= values["train.learning_rate"] <= 0.178
