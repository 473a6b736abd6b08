"""Each group's schema registered with Hydra: the data group's from the data-set registry."""
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from dnn.data.registry import DATASETS
from search.config import check_run_config, conf_dir
from search.config.compose import compose_checked


def test_every_data_yaml_is_a_registered_data_set():
    assert sorted(p.stem for p in (Path(conf_dir()) / "data").glob("*.yaml")) == sorted(DATASETS)


@pytest.mark.parametrize("name", list(DATASETS))
def test_a_registered_data_set_composes_to_its_settings_class(name):
    cfg = compose_checked("config", [f"data={name}"], check_run_config)
    assert OmegaConf.get_type(cfg.data) is DATASETS[name].settings
    assert cfg.data.name == name


@pytest.mark.parametrize("name", list(DATASETS))
def test_a_data_yaml_carries_values_only(name):
    """Its defaults name the base of its settings class; every value is a key of that class."""
    text = OmegaConf.to_container(OmegaConf.load(Path(conf_dir()) / "data" / f"{name}.yaml"))
    settings = DATASETS[name].settings
    assert text.pop("defaults") == [settings.base(), "_self_"]
    assert set(text) <= set(settings.__dataclass_fields__)
