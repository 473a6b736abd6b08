"""Stored configs are data: exact _target_ classes, no interpolation or resolver."""
import pytest
from omegaconf import OmegaConf

from search.config import ConfigError, check_no_foreign_targets, check_no_interpolations
from search.config.compose import compose_checked


@pytest.mark.parametrize("target", [
    "optuna.samplers._cmaes.optuna.storages.journal._file.os.system",  # passed a prefix match
    "optuna.samplers.TPESampler.os.system",
    "optuna.pruners..os.system",
    "optuna.samplers.",
    "os.system",
    None,
])
def test_only_exact_public_classes_may_be_targets(target):
    cfg = OmegaConf.create({"search": {"sampler": {"_target_": target}}})
    with pytest.raises(ConfigError, match="refusing _target_ .* at search.sampler._target_"):
        check_no_foreign_targets(cfg)


@pytest.mark.slow
def test_every_preset_of_conf_search_is_allowed():
    for sampler in ("tpe", "random", "grid", "cmaes", "qmc", "gp", "nsga2"):
        check_no_foreign_targets(compose_checked("sweep", [f"search/sampler={sampler}"]))
    for pruner in ("median", "successive_halving", "hyperband", "none"):
        check_no_foreign_targets(compose_checked("sweep", [f"search/pruner={pruner}"]))


@pytest.mark.parametrize("value, key", [
    ("${oc.env:SECRET_TOKEN}", "tracking.experiment"),
    ("run-${oc.env:SECRET_TOKEN}", "tracking.experiment"),
    ("${data.name}", "tracking.experiment"),
])
def test_a_stored_interpolation_or_resolver_is_refused_naming_the_key(value, key, monkeypatch):
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    cfg = OmegaConf.create({"data": {"name": "planar"}, "tracking": {"experiment": value}})
    with pytest.raises(ConfigError, match=f"at {key}") as e:
        check_no_interpolations(cfg)
    assert "hunter2" not in str(e.value)


def test_interpolations_in_lists_are_found_and_plain_values_pass():
    cfg = OmegaConf.create({"model": {"hidden_units": [8, "${oc.env:HOME}"]}})
    with pytest.raises(ConfigError, match="at model.hidden_units.1"):
        check_no_interpolations(cfg)
    check_no_interpolations(OmegaConf.create({"model": {"hidden_units": [8, 4]},
                                              "tracking": {"uri": "sqlite:///x.db"}}))


def test_a_config_stored_before_the_data_options_were_grouped_still_reproduces():
    from search.cli.reproduce import drop_legacy_data_keys
    from search.config import check_run_config

    old = {"name": "digits", "dir": None, "path": None, "n_samples": 400, "noise": 0.2,
           "factor": 0.5, "val_fraction": 0.2, "standardize": True, "seed": 1}
    with pytest.raises(ConfigError, match="data.dir: Key 'dir' not in 'TableSettings'"):
        check_run_config(OmegaConf.create({"data": old}))
    cfg = drop_legacy_data_keys(OmegaConf.create({"data": old}))
    assert dict(cfg.data) == {"name": "digits", "val_fraction": 0.2, "standardize": True,
                              "seed": 1}
    check_run_config(cfg)
    circles = drop_legacy_data_keys(OmegaConf.create({"data": {**old, "name": "circles"}}))
    assert set(circles.data) == {"name", "n_samples", "noise", "factor", "val_fraction",
                                 "standardize", "seed"}


def test_interpolations_under_missing_values_and_nested_lists_are_found():
    cfg = OmegaConf.create({"a": "???", "b": {"c": "???", "d": [1, {"e": "${oc.env:HOME}"}]}})
    with pytest.raises(ConfigError, match="at b.d.1.e"):
        check_no_interpolations(cfg)
    check_no_interpolations(OmegaConf.create({"a": "???", "b": {"c": [1, "???"]}}))
