"""The config tree's location, its schema check, and flattening to dotted keys."""
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import List, Optional

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException


class ConfigError(ValueError):
    """A composed config that cannot be run; the message names the bad value."""


def conf_dir():
    """The Hydra config tree: installed inside the package, or conf/ beside it in a checkout."""
    installed = resources.files("search") / "conf"
    if installed.is_dir():
        return str(installed)
    return str(Path(__file__).resolve().parents[2] / "conf")


@dataclass
class DataSchema:
    name: str = "planar"
    dir: Optional[str] = None
    path: Optional[str] = None
    n_samples: int = 400
    noise: float = 0.2
    factor: float = 0.5
    val_fraction: float = 0.2
    standardize: bool = False
    seed: int = 1


@dataclass
class ModelSchema:
    hidden_units: List[int] = field(default_factory=lambda: [8, 4])
    activation: str = "tanh"
    init: str = "xavier"


@dataclass
class TrainSchema:
    learning_rate: float = 0.3
    num_iterations: int = 1500
    batch_size: Optional[int] = None
    optimizer: str = "gd"
    beta: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    lambd: float = 0.0
    keep_prob: float = 1.0
    seed: int = 1
    dtype: str = "float64"
    eval_every: int = 50


@dataclass
class TrackingSchema:
    uri: str = "sqlite:///mlruns/mlflow.db"
    artifact_root: Optional[str] = "mlruns/artifacts"
    experiment: str = "dnnsweep"
    log_every: int = 1
    flush_seconds: float = 5.0
    log_model: bool = True
    register: Optional[str] = None  # registered model name: a version per run, alias champion


@dataclass
class CVSchema:
    folds: Optional[int] = None   # K of stratified K-fold cross-validation; None: off
    repeats: int = 1              # the K folds again with other seeds, averaged


@dataclass
class RunSchema:
    data: DataSchema = field(default_factory=DataSchema)
    model: ModelSchema = field(default_factory=ModelSchema)
    train: TrainSchema = field(default_factory=TrainSchema)
    tracking: TrackingSchema = field(default_factory=TrackingSchema)
    cv: CVSchema = field(default_factory=CVSchema)


def _one_line(e):
    """OmegaConf's error text, reduced to its first line plus the key it names."""
    msg = str(e).splitlines()[0]
    key = getattr(e, "full_key", None)
    return f"{msg} (at {key})" if key and key not in msg else msg


def check_run_config(cfg: DictConfig, extra_groups=()):
    """Types, unknown keys and value ranges of a run's config; raises ConfigError."""
    from dnn.data.registry import DATASETS
    from dnn.train import check_hyperparameters
    from dnn.checks import check_choice, check_positive, check_range

    plain = {k: OmegaConf.to_container(cfg[k], resolve=True) for k in RunSchema.__dataclass_fields__
             if k in cfg}
    try:
        typed = OmegaConf.merge(OmegaConf.structured(RunSchema), plain)
    except OmegaConfBaseException as e:
        raise ConfigError(_one_line(e)) from None
    unknown = set(cfg) - set(RunSchema.__dataclass_fields__) - {"hydra", *extra_groups}
    if unknown:
        raise ConfigError(f"unknown config group(s) {sorted(unknown)}; allowed: "
                          f"{', '.join(RunSchema.__dataclass_fields__)}")
    d, m, t, k = typed.data, typed.model, typed.train, typed.tracking
    try:
        check_cv(typed.cv)
        check_choice("data set", d.name, DATASETS)
        check_positive("data.n_samples", d.n_samples, integer=True)
        check_range("data.val_fraction", d.val_fraction, 0, 1, high_open=True)
        check_range("data.noise", d.noise, 0, float("inf"))
        if not m.hidden_units:
            raise ValueError("model.hidden_units must list at least one hidden layer width")
        check_hyperparameters(list(m.hidden_units), m.activation, m.init, t.learning_rate,
                              t.num_iterations, t.batch_size, t.optimizer, t.lambd,
                              t.keep_prob, t.dtype)
        check_positive("train.eval_every", t.eval_every, integer=True)
        check_positive("tracking.log_every", k.log_every, integer=True)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    return typed


def check_cv(cv):
    from dnn.checks import check_positive

    if cv.folds is not None and (isinstance(cv.folds, bool) or cv.folds < 2):
        raise ValueError(f"cv.folds must be an integer >= 2 (or null for no cross-validation), "
                         f"got {cv.folds!r}")
    check_positive("cv.repeats", cv.repeats, integer=True)


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
                             for k in RunSchema.__dataclass_fields__ if k in cfg})



def default_tracking(uri=None):
    """The tracking group of the default config, with uri from the argument or the
    environment (MLFLOW_TRACKING_URI) when given: for commands that are not Hydra apps."""
    import os

    tracking = OmegaConf.load(Path(conf_dir()) / "tracking" / "local.yaml")
    tracking.uri = uri or os.environ.get("MLFLOW_TRACKING_URI") or tracking.uri
    return tracking


# Classes a stored config may name in _target_: the sampler and pruner presets of conf/search.
ALLOWED_TARGET_PREFIXES = ("optuna.samplers.", "optuna.pruners.")


def check_no_foreign_targets(cfg, path=""):
    """Stored configs are data: refuse any _target_ outside the allowed Optuna classes."""
    node = OmegaConf.to_container(cfg, resolve=False) if isinstance(cfg, DictConfig) else cfg
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        where = f"{path}.{key}" if path else str(key)
        if key == "_target_" and not (isinstance(value, str)
                                      and value.startswith(ALLOWED_TARGET_PREFIXES)
                                      and ".." not in value):
            raise ConfigError(f"refusing _target_ {value!r} at {where}: only "
                              f"{', '.join(p + '*' for p in ALLOWED_TARGET_PREFIXES)} are allowed")
        if isinstance(value, (dict, list)):
            check_no_foreign_targets(value, where)
