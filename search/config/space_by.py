"""A float dimension whose range depends on a categorical one: the learning rate by optimizer.

    train.learning_rate: {type: float, log: true, by: train.optimizer,
                          ranges: {gd: null, momentum: null, adam: null}}

Optuna's conditional space: the optimizer is sampled first, then the learning rate under a
name of its own (train.learning_rate.adam), so that the sampler learns each optimizer's
rates apart. A range left null (or a choice missing from `ranges`) takes the optimizer's
usual range from RATES, and the sweep prints it ("fitted", stored with the study); a
range written as [low, high] is kept. `low` or `high` written on the dimension replaces that
end of every range (refused when it leaves a range empty). When the dimension named by
`by` is not searched, the run config's value picks the one range, and the dimension is an
ordinary float range.

RATES, from the optimizers' well-known defaults (not measured here): gd and momentum (the
course's momentum is an average of the gradients, so its step is gd's) keep the space's
former 1e-3..1, which holds the course's 0.0075; adam, whose steps are about its rate
whatever the gradient's scale, 1e-4..1e-1 around its usual 1e-3 (Kingma and Ba; the
default of scikit-learn's MLPClassifier and of PyTorch), up to the 0.1 that tiny full-batch
networks such as the planar set's take.
"""
import math

from omegaconf import OmegaConf

from search.config.errors import ConfigError

RATES = {"gd": (1e-3, 1.0), "momentum": (1e-3, 1.0), "adam": (1e-4, 1e-1)}
WHY = "their usual step sizes: adam's steps are about its rate whatever the gradient's scale"


def resolve_by(dims, run_cfg):
    """dims with each `by` dimension's ranges filled in (its fitted line saying what was
    chosen), or turned into a plain float range when its `by` is not searched."""
    out = {}
    for path, spec in dims.items():
        out[path] = _resolve(path, spec, dims, run_cfg) if spec.get("by") else spec
    return out


def _resolve(path, spec, dims, run_cfg):
    by = spec["by"]
    if by in dims:
        if dims[by].get("type") != "categorical":
            raise ConfigError(f"search.space.{path}.by={by!r}: must name a categorical "
                              f"dimension (or a run config key), not a {dims[by].get('type')}")
        choices = [c for c in dims[by]["choices"] or ()]
    else:
        value = OmegaConf.select(run_cfg, by, default="<missing>")
        if value == "<missing>":
            raise ConfigError(f"search.space.{path}.by={by!r}: not a dimension of the space "
                              "nor a key of the run config")
        choices = [value]
    written = spec.get("ranges") or {}
    ranges, fitted = {}, []
    for choice in choices:
        where = f"search.space.{path}.ranges.{choice}"
        given = written.get(str(choice))
        if given is None:
            if choice not in RATES:
                raise ConfigError(f"{where}: null is fitted only for {', '.join(RATES)}; give "
                                  "[low, high]")
            given = list(RATES[choice])
            fitted.append(str(choice))
        ranges[str(choice)] = _bounded(where, given, spec)
    line = ", ".join(f"{c} {lo:g}..{hi:g}" for c, (lo, hi) in ranges.items())
    why = f"; fitted for {', '.join(fitted)}: {WHY}" if fitted else ""
    if by not in dims:  # one choice: a plain range
        (low, high), = ranges.values()
        plain = {k: v for k, v in spec.items() if k not in ("by", "ranges", "fitted")}
        return {**plain, "low": low, "high": high,
                "fitted": f"{path} {low:g}..{high:g} for {by}={choices[0]} (not searched){why}"}
    return {**spec, "ranges": ranges, "fitted": f"{path} ranges by {by}: {line}{why}"}


def _bounded(where, given, spec):
    """[low, high] of one choice, checked, within the dimension's own low and high."""
    if OmegaConf.is_config(given):
        given = OmegaConf.to_container(given)
    ok = (isinstance(given, (list, tuple)) and len(given) == 2
          and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                  for v in given) and given[0] <= given[1]
          and (not spec.get("log") or given[0] > 0))
    if not ok:
        raise ConfigError(f"{where}={given!r}: must be [low, high], finite numbers with low <= "
                          "high" + (" and low > 0 (log scale)" if spec.get("log") else "")
                          + ", or null (fitted)")
    low, high = float(given[0]), float(given[1])
    for end in ("low", "high"):  # a bound written on the dimension replaces that end
        bound = spec.get(end)
        if bound is None:
            continue
        key = f"{where.rsplit('.ranges.', 1)[0]}.{end}"  # search.space.<path>.low
        if spec.get("log") and bound <= 0:
            raise ConfigError(f"{key}={bound}: a log scale needs a bound > 0")
        low, high = (bound, high) if end == "low" else (low, bound)
        if low > high:
            raise ConfigError(f"{key}={bound}: leaves {where} empty ({low:g} > {high:g}); "
                              "write that range instead")
    return [low, high]
