"""The learning rate by optimizer: one range per choice, sampled after the choice under a
name of its own; null ranges fitted (printed, stored); written ones kept; bad ones refused
in one line naming the key, the value and what is allowed."""
import optuna
import pytest

from search.config import ConfigError
from search.config.compose import compose_checked
from search.config.space_by import RATES
from search.config.space_fit import fitted_lines
from search.study.definition import study_definition
from search.study.narrow_from import dims_from_definition
from search.study.space import param_names, suggest, values_from_params
from search.study.study import check_sweep_config

LR = "train.learning_rate"


def dims_of(*overrides):
    return check_sweep_config(compose_checked("sweep", ["data=digits", *overrides]))


def test_each_optimizer_gets_its_usual_range_printed_and_stored():
    dims = dims_of()
    assert dims[LR]["ranges"] == {k: list(v) for k, v in RATES.items()}
    line = next(x for x in fitted_lines(dims) if x.startswith(LR))
    assert "ranges by train.optimizer: gd 0.001..1" in line and "adam 0.0001.." in line
    definition = study_definition(compose_checked("sweep", ["data=digits"]), dims, "digest")
    assert definition[f"search.space.{LR}.ranges.adam"] == list(RATES["adam"])
    assert dims_from_definition(definition)[LR]["ranges"] == dims[LR]["ranges"]


def test_a_written_range_or_bound_is_kept():
    """A range written is kept; a bound written on the dimension replaces that end of each."""
    dims = dims_of(f"search.space.{LR}.ranges.adam=[1e-4,3e-2]")
    assert dims[LR]["ranges"]["adam"] == [1e-4, 3e-2]
    assert dims[LR]["ranges"]["gd"] == list(RATES["gd"])
    capped = dims_of(f"search.space.{LR}.high=0.05", f"search.space.{LR}.low=1e-5")[LR]["ranges"]
    assert capped["gd"] == [1e-5, 0.05] and capped["adam"] == [1e-5, 0.05]


def test_an_optimizer_not_searched_picks_its_one_range():
    dims = dims_of("~search.space.train.optimizer", "train.optimizer=adam")
    assert (dims[LR]["low"], dims[LR]["high"]) == RATES["adam"] and "by" not in dims[LR]
    assert "for train.optimizer=adam (not searched)" in dims[LR]["fitted"]


def test_the_rate_is_sampled_after_the_optimizer_under_its_name():
    dims = dims_of()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(12):
        trial = study.ask()
        values = suggest(trial, dims)
        name = f"{LR}.{values['train.optimizer']}"
        low, high = dims[LR]["ranges"][values["train.optimizer"]]
        assert trial.params[name] == values[LR] and low <= values[LR] <= high
        assert values_from_params(trial.params, dims)[LR] == values[LR]
        study.tell(trial, 0.0)
    assert {f"{LR}.{k}" for k in RATES} <= set(param_names(dims))


@pytest.mark.parametrize("override, message", [
    (f"search.space.{LR}.ranges.adam=[0.1,0.01]",
     f"search.space.{LR}.ranges.adam=[0.1, 0.01]: must be [low, high], finite numbers with "
     "low <= high and low > 0 (log scale), or null (fitted)"),
    (f"search.space.{LR}.ranges.gd=0", f"search.space.{LR}.ranges.gd=0: must be [low, high]"),
    (f"search.space.{LR}.by=model.hidden_units",
     f"search.space.{LR}.by='model.hidden_units': must name a categorical dimension"),
    (f"search.space.{LR}.by=train.nothing",
     f"search.space.{LR}.by='train.nothing': not a dimension of the space nor a key"),
    (f"search.space.{LR}.low=2.0", f"search.space.{LR}.low=2.0: leaves search.space.{LR}"
     ".ranges.gd empty (2 > 1); write that range instead"),
    (f"search.space.{LR}.low=0", f"search.space.{LR}.low=0: a log scale needs a bound > 0"),
    (f"search.space.{LR}.by=model.activation",
     f"search.space.{LR}.ranges.relu: null is fitted only for gd, momentum, adam; give [low, high]"),
])
def test_bad_ranges_are_refused_naming_key_value_and_what_is_allowed(override, message):
    with pytest.raises(ConfigError) as e:
        dims_of(override)
    assert str(e.value).startswith(message) and "\n" not in str(e.value)
