"""The search space: checks, define-by-run sampling and the way back to config overrides."""
import optuna
import pytest
from omegaconf import OmegaConf

from search.config import ConfigError, check_run_config
from search.config.space import check_space as check_space_against
from search.study.space import apply_values, as_overrides, dimensions, suggest, values_from_params

RUN = OmegaConf.create({"model": {"hidden_units": [8, 4], "activation": "tanh"},
                        "train": {"learning_rate": 0.3, "batch_size": None}})


def check_space(space, run_cfg):
    return check_space_against(space, run_cfg, check_run_config)
SPACE = OmegaConf.create({
    "train": {"learning_rate": {"type": "float", "low": 1e-3, "high": 1.0, "log": True},
              "batch_size": {"type": "categorical", "choices": [None, 64]}},
    "model": {"hidden_units": {"type": "layers", "depth_low": 1, "depth_high": 4,
                               "units_low": 2, "units_high": 32, "log": True},
              "activation": {"type": "categorical", "choices": ["relu", "tanh"]}},
})


def test_paths_are_dotted_and_units_follow_the_depth():
    dims = check_space(SPACE, RUN)
    assert set(dims) == {"train.learning_rate", "train.batch_size", "model.hidden_units",
                         "model.activation"}
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        trial = study.ask()
        values = suggest(trial, dims)
        depth = trial.params["model.hidden_units.depth"]
        assert len(values["model.hidden_units"]) == depth
        assert {f"model.hidden_units.units_{l}" for l in range(1, depth + 1)} <= set(trial.params)
        assert f"model.hidden_units.units_{depth + 1}" not in trial.params
        assert values_from_params(trial.params, dims) == values
        cfg = apply_values(RUN, values)
        assert list(cfg.model.hidden_units) == values["model.hidden_units"]
        study.tell(trial, 0.0)


def test_shared_width_and_overrides():
    space = OmegaConf.create({"model": {"hidden_units": {
        "type": "layers", "depth_low": 3, "depth_high": 3, "units_low": 5, "units_high": 5,
        "shared": True}}})
    dims = check_space(space, RUN)
    trial = optuna.create_study().ask()
    values = suggest(trial, dims)
    assert values == {"model.hidden_units": [5, 5, 5]}
    assert as_overrides({**values, "train.batch_size": None, "train.learning_rate": 0.5}) == \
        ["model.hidden_units=[5,5,5]", "train.batch_size=null", "train.learning_rate=0.5"]


def test_a_removed_dimension_is_absent():
    space = OmegaConf.create({"train": {"learning_rate": None,
                                        "batch_size": {"type": "categorical", "choices": [1]}}})
    assert list(dimensions(space)) == ["train.batch_size"]


@pytest.mark.parametrize("spec, message", [
    ({"train": {"learning_rate": {"type": "normal", "low": 0, "high": 1}}}, "type='normal': must be one of float, int"),
    ({"train": {"learning_rate": {"type": "float", "low": 1, "high": 0.1}}}, "low 1.0 is greater than high 0.1"),
    ({"train": {"learning_rate": {"type": "float", "low": 0, "high": 1, "log": True}}}, "log scale needs low > 0"),
    ({"train": {"batch_size": {"type": "categorical", "choices": []}}}, "choices: must be a non-empty list"),
    ({"train": {"momentum": {"type": "float", "low": 0, "high": 1}}}, "'train.momentum' is not a key"),
    ({"train": {"learning_rate": {"type": "float", "low": 0, "high": 1, "sigma": 2}}}, "Key 'sigma' not in 'FloatDim'"),
    ({"model": {"hidden_units": {"type": "layers", "depth_low": 0, "depth_high": 2,
                                 "units_low": 1, "units_high": 4}}}, "at least 1"),
    ({}, "search.space is empty"),
])
def test_malformed_spaces_are_named(spec, message):
    with pytest.raises(ConfigError, match=message):
        check_space(OmegaConf.create(spec), RUN)
