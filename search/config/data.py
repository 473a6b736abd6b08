"""The `data` group: its schema is the settings class of the data set named, from the
data-set registry (dnn.data.registry.DATASETS; the classes in dnn.data.settings).

Every set takes name, val_fraction, standardize and seed; generated sets also n_samples
and noise (circles also factor); cat a folder (dir), npz a file (path).
"""
from dataclasses import fields

from dnn.data.registry import DATASETS, settings_of
from search.config.errors import ConfigError


def data_schema(name):
    """The settings class of data set `name` (ConfigError naming the allowed sets)."""
    if name not in DATASETS:
        raise ConfigError(f"data.name={name!r}: must be one of {', '.join(DATASETS)}")
    return DATASETS[name].settings


def check_data(data):
    """The data group's values as dnn.data settings (ranges checked there)."""
    values = {f.name: data[f.name] for f in fields(data_schema(data["name"])) if f.name in data}
    extra = sorted(set(data) - set(values))
    if extra:
        allowed = ", ".join(f.name for f in fields(data_schema(data["name"])))
        raise ConfigError(f"data.{extra[0]}={data[extra[0]]!r}: data set {data['name']} takes "
                          f"no option {extra[0]!r}; its keys: {allowed}")
    try:
        return settings_of(**values)
    except ValueError as e:
        raise ConfigError(f"data.{e}") from None
