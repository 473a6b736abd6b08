"""The schema of search.space: one dataclass per dimension kind, and the check of every
dimension against the run config's own schema (before a study exists).

search.space mirrors the run config: a leaf with a `type` is a dimension, and its dotted
path (train.learning_rate) is both the Optuna parameter name and the config key it sets.
"""
import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from omegaconf import MISSING, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from dnn.data import DataError, load_dataset
from search.config.errors import ConfigError
from search.config.run import check_run_config
from search.config.space_by import resolve_by
from search.config.space_fit import data_shape, fit_dims, needs_fitting


@dataclass
class FloatDim:
    """A range; or, with `by` (a categorical dimension's path), one range per choice in
    `ranges`, whose ends a written low or high replaces (search.config.space_by)."""
    type: str = "float"
    low: Optional[float] = None
    high: Optional[float] = None
    log: bool = False
    step: Optional[float] = None
    by: Optional[str] = None
    ranges: Optional[Dict[str, Any]] = None  # {choice: [low, high] or null (fitted)}
    fitted: Optional[str] = None  # the ranges chosen, and why


@dataclass
class IntDim:
    type: str = "int"
    low: int = MISSING
    high: int = MISSING
    log: bool = False
    step: Optional[int] = None


@dataclass
class CategoricalDim:
    type: str = "categorical"
    choices: Optional[List[Any]] = field(default_factory=list)  # train.batch_size: null fits
    fitted: Optional[str] = None  # why the choices are what they are (search.config.space_fit)


@dataclass
class LayersDim:
    """model.hidden_units: a depth, then the units of each layer (or one shared width);
    a units bound left null is fitted to the data (search.config.space_fit)."""
    type: str = "layers"
    depth_low: int = MISSING
    depth_high: int = MISSING
    units_low: Optional[int] = None
    units_high: Optional[int] = None
    log: bool = True
    shared: bool = False
    fitted: Optional[str] = None  # why the units are what they are


KINDS = {"float": FloatDim, "int": IntDim, "categorical": CategoricalDim, "layers": LayersDim}


def dimensions(space, prefix=""):
    """{dotted path: spec dict} of every dimension in the (nested) space config."""
    node = OmegaConf.to_container(space, resolve=True) if not isinstance(space, dict) else space
    out = {}
    for key, value in (node or {}).items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and "type" in value:
            out[path] = value
        elif isinstance(value, dict):
            out.update(dimensions(value, path + "."))
        elif value is not None:  # a dimension removed with key=null is simply absent
            raise ConfigError(f"search.space.{path}={value!r}: must be a mapping with a "
                              f"'type' ({', '.join(KINDS)})")
    return out


def typed_dimension(path, spec):
    """spec merged into its kind's schema: the keys and their types checked."""
    kind = spec.get("type")
    if kind not in KINDS:
        raise ConfigError(f"search.space.{path}.type={kind!r}: must be one of {', '.join(KINDS)}")
    try:
        dim = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(KINDS[kind]), spec))
    except OmegaConfBaseException as e:
        key = getattr(e, "key", None)
        allowed = ", ".join(KINDS[kind].__dataclass_fields__)
        what = str(e).splitlines()[0]
        where = f"search.space.{path}" + (f".{key}" if key else "")
        raise ConfigError(f"{where}: {what} (keys of a {kind} dimension: {allowed})") from None
    _check_bounds(path, dim)
    return dim


def _check_range(where, low, high, log):
    for name, value in (("low", low), ("high", high)):
        if not math.isfinite(value):
            raise ConfigError(f"search.space.{where}.{name}={value}: must be finite")
    if low > high:
        raise ConfigError(f"search.space.{where}: low {low} is greater than high {high}")
    if log and low <= 0:
        raise ConfigError(f"search.space.{where}: a log scale needs low > 0, got {low}")


def _check_bounds(path, dim):
    if isinstance(dim, CategoricalDim):
        if not dim.choices:
            raise ConfigError(f"search.space.{path}.choices: must be a non-empty list")
    elif isinstance(dim, LayersDim):
        _check_range(path, dim.depth_low, dim.depth_high, False)
        _check_range(path, dim.units_low, dim.units_high, dim.log)
        if dim.depth_low < 1 or dim.units_low < 1:
            raise ConfigError(f"search.space.{path}: depth and units must be at least 1, got "
                              f"depth_low={dim.depth_low}, units_low={dim.units_low}")
    elif isinstance(dim, FloatDim) and dim.by is not None:
        for choice, (low, high) in dim.ranges.items():
            _check_range(f"{path}.ranges.{choice}", low, high, dim.log)
        if dim.step is not None:
            raise ConfigError(f"search.space.{path}: step and by cannot be combined")
    else:
        for name in ("low", "high"):
            if getattr(dim, name) is None:
                raise ConfigError(f"search.space.{path}.{name}: missing: a {dim.type} "
                                  "dimension needs low and high")
        _check_range(path, dim.low, dim.high, dim.log)
        if dim.log and dim.step is not None:
            raise ConfigError(f"search.space.{path}: step and log=true cannot be combined")
        if dim.step is not None and dim.step <= 0:
            raise ConfigError(f"search.space.{path}.step={dim.step}: must be positive")


def _fitted(dims, run_cfg):
    try:  # a data file that cannot be read is a config error here: one line, exit 2
        data = load_dataset(**OmegaConf.to_container(run_cfg.data, resolve=True))
    except (DataError, ValueError) as e:
        raise ConfigError(str(e)) from None
    try:
        return fit_dims(dims, *data_shape(data, OmegaConf.select(run_cfg, "cv.folds")))
    except ValueError as e:
        raise ConfigError(str(e)) from None


def candidate_values(dim):
    """The values a dimension can give its key that decide whether the run config accepts
    all of them: every choice, the ends of a range."""
    if isinstance(dim, CategoricalDim):
        return list(dim.choices)
    if isinstance(dim, LayersDim):
        return [[dim.units_low] * dim.depth_low, [dim.units_high] * dim.depth_high]
    if isinstance(dim, FloatDim) and dim.by is not None:
        return [v for r in dim.ranges.values() for v in r]  # written low, high: inside them
    return [dim.low, dim.high]


def check_space(space, run_cfg, check_run=None):
    """Each dimension typed by its kind and every value it can take accepted by the run
    config (check_run, by default search.config.check_run_config, raises ConfigError on a
    config the run would refuse); bounds and choices left null are fitted to the data of
    run_cfg first (search.config.space_fit). Returns {path: spec dict}."""
    check_run = check_run or check_run_config
    dims = dimensions(space)
    if not dims:
        raise ConfigError("search.space is empty: give at least one dimension to search")
    if needs_fitting(dims):
        dims = _fitted(dims, run_cfg)
    plain = {path: spec for path, spec in dims.items() if not spec.get("by")}
    for path, spec in plain.items():  # first: the choices a `by` dimension's ranges follow
        _check_values(path, spec, run_cfg, check_run)
    dims = resolve_by(dims, run_cfg)
    for path, spec in dims.items():
        if path not in plain:
            _check_values(path, spec, run_cfg, check_run)
    return dims


def _check_values(path, spec, run_cfg, check_run):
    """ConfigError unless path is a key of the run config that takes every value the
    dimension spec can give it."""
    dim = typed_dimension(path, spec)
    if OmegaConf.select(run_cfg, path, default="<missing>") == "<missing>":
        raise ConfigError(f"search.space.{path}: {path!r} is not a key of the run config")
    for value in candidate_values(dim):
        trial_cfg = OmegaConf.create(OmegaConf.to_container(run_cfg, resolve=True))
        OmegaConf.update(trial_cfg, path, value, merge=False)
        try:
            check_run(trial_cfg)
        except ConfigError as e:
            raise ConfigError(f"search.space.{path}: the value {value!r} is refused by the "
                              f"run config ({e})") from None
