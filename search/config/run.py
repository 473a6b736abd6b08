"""A run's config: its groups, their check, and its views (MLflow params, dnn.fit keywords).

A config composed by Hydra arrives typed (each group's schema is registered as its base,
search.config.store); a config rebuilt from data (a stored config.yaml, a trial's copy with
sampled values) is typed here against the same schemas before its ranges are checked.
"""
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from dnn.stopping import STOP_METRICS
from search.config.cv import CVSchema, check_cv
from search.config.data import check_data, data_schema
from search.config.errors import ConfigError
from search.config.model import ModelSchema, check_model
from search.config.overrides import as_overrides
from search.config.paths import conf_dir
from search.config.tracking import TrackingSchema, check_tracking
from search.config.train import TrainSchema, check_train

SCHEMAS = {"model": ModelSchema, "train": TrainSchema, "tracking": TrackingSchema,
           "cv": CVSchema}
CHECKS = {"model": check_model, "train": check_train, "tracking": check_tracking,
          "cv": check_cv}
GROUPS = ("data", "model", "train", "tracking", "cv")


def _bad_value(e, group):
    """OmegaConf's type error as one line naming group.key and the value."""
    key = getattr(e, "full_key", None) or getattr(e, "key", None) or ""
    key = key if str(key).startswith(group) else f"{group}.{key}" if key else group
    what = str(e).splitlines()[0]
    return f"{key}: {what}"


def typed(group, node):
    """The group's values in its schema (types converted or refused), as a DictConfig."""
    schema = data_schema(node.get("name")) if group == "data" else SCHEMAS[group]
    if OmegaConf.is_config(node) and OmegaConf.get_type(node) is schema:
        return node  # typed at composition
    try:
        return OmegaConf.merge(OmegaConf.structured(schema), node)
    except OmegaConfBaseException as e:
        raise ConfigError(_bad_value(e, group)) from None


def check_run_config(cfg, extra_groups=()):
    """Types, unknown keys and value ranges of a run's config; raises ConfigError naming the
    key, the bad value and what is allowed. Returns cfg."""
    unknown = set(cfg) - set(GROUPS) - {"hydra", *extra_groups}
    if unknown:
        raise ConfigError(f"unknown config group(s) {sorted(unknown)}; allowed: "
                          f"{', '.join(GROUPS)}")
    for group in GROUPS:
        if group not in cfg:
            continue
        values = OmegaConf.to_container(typed(group, cfg[group]), resolve=True)
        if group == "data":
            check_data(values)
            continue
        CHECKS[group](values)
        try:  # the schema's own checks (dnn.settings): implied by the rules above
            SCHEMAS[group](**values)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{group}: {e}") from None
    check_ensemble_alone(cfg)
    return cfg


def check_ensemble_alone(cfg):
    """ConfigError for an ensemble under cross-validation, which scores one network a fold."""
    n, folds = OmegaConf.select(cfg, "model.ensemble"), OmegaConf.select(cfg, "cv.folds")
    if folds and n and n > 1:
        raise ConfigError(f"model.ensemble={n} with cv.folds={folds}: cross-validation scores "
                          "one network per fold; allowed: model.ensemble=1 under cv.folds, or "
                          "an ensemble without cv.folds (a sweep's refit: "
                          "search.refit_ensemble)")


def flatten(cfg, prefix=""):
    """{"model.hidden_units": "[8, 4]", ...}: a config as MLflow params (dotted keys)."""
    node = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else cfg
    out = {}
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def fit_kwargs(cfg) -> dict:
    """The keyword arguments of dnn.fit from the model and train groups."""
    return {**OmegaConf.to_container(cfg.model, resolve=True),
            **OmegaConf.to_container(cfg.train, resolve=True)}


def run_config(cfg) -> DictConfig:
    """Only the groups that define a run (data, model, train, tracking, cv), without hydra."""
    return OmegaConf.create({k: OmegaConf.to_container(cfg[k], resolve=True)
                             for k in GROUPS if k in cfg})


def base_run_config(cfg):
    """The run config every trial starts from: data, model, train, tracking, and the
    study's cross-validation settings when search.cv.folds is set. Early stopping
    watches the study's own metric (a validation score) unless train.stop_metric says.
    A trial logs its network as an MLflow model only when search.log_trial_models asks
    (the refit, which is served, follows tracking.log_model)."""
    base = run_config(cfg)
    base.tracking.log_model = bool(cfg.tracking.log_model and cfg.search.log_trial_models)
    if cfg.search.cv.folds:
        base.cv = OmegaConf.to_container(cfg.search.cv, resolve=True)
    metric = cfg.search.metric
    if base.train.get("stop_metric") is None and isinstance(metric, str) \
            and metric in STOP_METRICS:
        base.train.stop_metric = metric
    return base


def trial_overrides(cfg):
    """What makes a trial train differently from dnn-train with the same overrides: the
    run settings dnn-sweep's own config gives every trial (conf/sweep.yaml: early stopping,
    the dtype) and the stop metric base_run_config sets, as overrides with this sweep's
    values, so that a printed dnn-train command trains as the trial did."""
    own = OmegaConf.load(Path(conf_dir()) / "sweep.yaml")
    base = base_run_config(cfg)
    keys = [f"{g}.{k}" for g in ("data", "model", "train", "cv") for k in own.get(g) or {}]
    if base.train.get("stop_metric") is not None and "train.stop_metric" not in keys:
        keys.append("train.stop_metric")
    return as_overrides({key: OmegaConf.select(base, key) for key in keys})
