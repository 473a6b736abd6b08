"""Stored configs are data: what a config.yaml read back from a store may contain."""
from omegaconf import DictConfig, ListConfig, OmegaConf

from search.config.errors import ConfigError

# The classes a stored config may name in _target_: the sampler and pruner presets.
ALLOWED_TARGETS = tuple(f"optuna.samplers.{c}" for c in (
    "TPESampler", "RandomSampler", "CmaEsSampler", "GPSampler", "GridSampler", "NSGAIISampler",
    "QMCSampler")) + tuple(f"optuna.pruners.{c}" for c in (
    "MedianPruner", "HyperbandPruner", "NopPruner", "SuccessiveHalvingPruner",
    "PercentilePruner", "ThresholdPruner", "PatientPruner", "WilcoxonPruner"))


def _items(node):
    if isinstance(node, dict):
        return node.items()
    return enumerate(node) if isinstance(node, list) else ()


def check_no_foreign_targets(cfg, path=""):
    """Refuse any _target_ that is not exactly one of the allowed Optuna classes."""
    node = OmegaConf.to_container(cfg, resolve=False) if OmegaConf.is_config(cfg) else cfg
    for key, value in _items(node):
        where = f"{path}.{key}" if path else str(key)
        if key == "_target_" and value not in ALLOWED_TARGETS:
            raise ConfigError(f"refusing _target_ {value!r} at {where}: only these classes are "
                              f"allowed: {', '.join(ALLOWED_TARGETS)}")
        check_no_foreign_targets(value, where) if isinstance(value, (dict, list)) else None


def check_no_interpolations(cfg, path=""):
    """Refuse any ${...} interpolation or resolver (${oc.env:...}) in a stored config: it
    would read the environment or other keys when the config is used."""
    node = cfg if isinstance(cfg, (DictConfig, ListConfig)) else OmegaConf.create(cfg)
    keys = node.keys() if isinstance(node, DictConfig) else range(len(node))
    for key in keys:
        where = f"{path}.{key}" if path else str(key)
        if OmegaConf.is_interpolation(node, key):
            raw = OmegaConf.to_container(node, resolve=False)[key]
            raise ConfigError(f"refusing the interpolation {raw!r} at {where}: a stored config "
                              "is data and may hold no ${...} (nor resolvers such as oc.env)")
        if OmegaConf.is_missing(node, key):
            continue
        child = node[key]  # not an interpolation (above): read as it is, nothing resolved
        if isinstance(child, (DictConfig, ListConfig)):
            check_no_interpolations(child, where)
