"""The search space: parsed from config, checked, sampled per trial, mapped back to overrides.

search.space mirrors the run config: a leaf with a `type` is a dimension, and its dotted
path (train.learning_rate) is both the Optuna parameter name and the config key it sets.
Types: float and int (low, high, log, step), categorical (choices), and layers for
model.hidden_units (depth range, units range, per-layer or one shared width).
"""
from omegaconf import OmegaConf

from search.config import ConfigError

TYPES = ("float", "int", "categorical", "layers")
KEYS = {
    "float": {"type", "low", "high", "log", "step"},
    "int": {"type", "low", "high", "log", "step"},
    "categorical": {"type", "choices"},
    "layers": {"type", "depth_low", "depth_high", "units_low", "units_high", "log", "shared"},
}


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
            raise ConfigError(f"search.space.{path}: expected a mapping with a 'type', got {value!r}")
    return out


def _check_range(path, low, high, log, integer):
    number = (int,) if integer else (int, float)
    if not isinstance(low, number) or not isinstance(high, number) or isinstance(low, bool):
        kind = "integers" if integer else "numbers"
        raise ConfigError(f"search.space.{path}: low and high must be {kind}, got {low!r}, {high!r}")
    if low > high:
        raise ConfigError(f"search.space.{path}: low {low} is greater than high {high}")
    if log and low <= 0:
        raise ConfigError(f"search.space.{path}: a log scale needs low > 0, got {low}")


def check_space(space, run_cfg):
    """Raise ConfigError for a malformed space or a path that is not in the run config."""
    dims = dimensions(space)
    if not dims:
        raise ConfigError("search.space is empty: give at least one dimension to search")
    for path, spec in dims.items():
        kind = spec.get("type")
        if kind not in TYPES:
            raise ConfigError(f"search.space.{path}: unknown type {kind!r}; allowed: {', '.join(TYPES)}")
        extra = set(spec) - KEYS[kind]
        if extra:
            raise ConfigError(f"search.space.{path}: unknown key(s) {sorted(extra)} for type "
                              f"{kind}; allowed: {', '.join(sorted(KEYS[kind]))}")
        if OmegaConf.select(run_cfg, path, default="<missing>") == "<missing>":
            raise ConfigError(f"search.space.{path}: {path!r} is not a key of the run config")
        if kind == "categorical":
            if not isinstance(spec.get("choices"), list) or not spec["choices"]:
                raise ConfigError(f"search.space.{path}: choices must be a non-empty list")
        elif kind == "layers":
            _check_range(path + " depth", spec.get("depth_low"), spec.get("depth_high"), False, True)
            _check_range(path + " units", spec.get("units_low"), spec.get("units_high"),
                         spec.get("log", False), True)
            if spec["depth_low"] < 1 or spec["units_low"] < 1:
                raise ConfigError(f"search.space.{path}: depth and units must be at least 1")
        else:
            _check_range(path, spec.get("low"), spec.get("high"), spec.get("log", False),
                         kind == "int")
    return dims


def suggest(trial, dims):
    """Sample every dimension on an Optuna trial; returns {config path: value}."""
    values = {}
    for path, spec in dims.items():
        kind = spec["type"]
        if kind == "float":
            values[path] = trial.suggest_float(path, spec["low"], spec["high"],
                                               log=spec.get("log", False), step=spec.get("step"))
        elif kind == "int":
            values[path] = trial.suggest_int(path, spec["low"], spec["high"],
                                             log=spec.get("log", False), step=spec.get("step") or 1)
        elif kind == "categorical":
            values[path] = trial.suggest_categorical(path, spec["choices"])
        else:
            values[path] = _suggest_layers(trial, path, spec)
    return values


def _suggest_layers(trial, path, spec):
    """Depth first, then units: one shared width, or one per layer (define-by-run: the
    per-layer parameters that exist depend on the sampled depth)."""
    depth = trial.suggest_int(f"{path}.depth", spec["depth_low"], spec["depth_high"])
    log = spec.get("log", True)
    if spec.get("shared", False):
        width = trial.suggest_int(f"{path}.units", spec["units_low"], spec["units_high"], log=log)
        return [width] * depth
    return [trial.suggest_int(f"{path}.units_{l}", spec["units_low"], spec["units_high"], log=log)
            for l in range(1, depth + 1)]


def values_from_params(params, dims):
    """{config path: value} from a trial's params (the inverse of suggest)."""
    values = {}
    for path, spec in dims.items():
        if spec["type"] != "layers":
            if path in params:
                values[path] = params[path]
            continue
        depth = params.get(f"{path}.depth")
        if depth is None:
            continue
        if f"{path}.units" in params:
            values[path] = [params[f"{path}.units"]] * depth
        else:
            values[path] = [params[f"{path}.units_{l}"] for l in range(1, depth + 1)]
    return values


def apply_values(run_cfg, values):
    """A copy of run_cfg with the sampled values set."""
    cfg = OmegaConf.create(OmegaConf.to_container(run_cfg, resolve=True))
    for path, value in values.items():
        OmegaConf.update(cfg, path, value, merge=False)
    return cfg


def as_overrides(values):
    """Hydra command-line overrides for the values: train.learning_rate=0.01 ..."""
    def fmt(v):
        if isinstance(v, list):
            return "[" + ",".join(fmt(x) for x in v) + "]"
        if v is None:
            return "null"
        return repr(v) if isinstance(v, float) else str(v)
    return [f"{path}={fmt(v)}" for path, v in values.items()]
