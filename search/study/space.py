"""The search space on the Optuna side: sampled per trial, mapped back to config overrides.

search.space mirrors the run config: a leaf with a `type` is a dimension, and its dotted
path (train.learning_rate) is both the Optuna parameter name and the config key it sets.
Types: float and int (low, high, log, step), categorical (choices), and layers for
model.hidden_units (depth range, units range, per-layer or one shared width). Their schema
and checks: search.config.space.
"""
from omegaconf import OmegaConf

from search.config.overrides import as_overrides  # noqa: F401 - the trials' overrides
from search.config.space import check_space, dimensions  # noqa: F401 - the space's schema


def param_names(dims):
    """The Optuna parameter names the dims give (layers: depth and units)."""
    names = []
    for path, spec in dims.items():
        if spec.get("by"):
            names += [f"{path}.{choice}" for choice in spec["ranges"]]
        elif spec["type"] != "layers":
            names.append(path)
        elif spec.get("shared"):
            names += [f"{path}.depth", f"{path}.units"]
        else:
            names += [f"{path}.depth"] + [f"{path}.units_{l}"
                                          for l in range(1, spec["depth_high"] + 1)]
    return names


def check_color_by(search, dims):
    """ValueError naming the key when search.report.color_by is not a searched parameter."""
    color_by = search.report.color_by
    if color_by is None:
        return
    allowed = param_names(dims)
    if color_by not in allowed and not (color_by in dims and dims[color_by]["type"] == "layers"):
        raise ValueError(f"search.report.color_by {color_by!r}: allowed: null (the most "
                         f"important) or a searched parameter: {', '.join(allowed)}")


def suggest(trial, dims):
    """Sample every dimension on an Optuna trial; returns {config path: value}. A range
    that depends on a choice (`by`) is sampled after it, under the name path.choice."""
    values = {}
    for path in sorted(dims, key=lambda p: bool(dims[p].get("by"))):  # stable: by last
        spec, kind = dims[path], dims[path]["type"]
        if spec.get("by"):
            choice = str(values[spec["by"]])
            low, high = spec["ranges"][choice]
            values[path] = trial.suggest_float(f"{path}.{choice}", low, high,
                                               log=spec.get("log", False))
        elif kind == "float":
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
        if spec.get("by"):
            name = f"{path}.{params.get(spec['by'])}"
            if name in params:
                values[path] = params[name]
        elif spec["type"] != "layers":
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

