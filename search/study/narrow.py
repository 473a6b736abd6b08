"""Coarse to fine: a narrower search space derived from the best trials of a study, and
the study's finished trials that fall inside it, to warm-start a new study.

Float and int dimensions shrink to the span of the top fraction of complete trials,
measured in the dimension's own scale (log10 for log: true), widened by a margin on each
side; they go beyond the old bounds only where the best trial sits at an edge, and only
as far as the run config allows. Categorical dimensions keep the choices seen among the
top trials; layers keep the depths and the unit range seen among them.
"""
import math

import optuna

from search import links
from search.config import ConfigError
from search.study.ranking import best_first

MIN_TOP = 3          # trials the narrowed ranges are measured on, at least
EDGE = 0.02          # the best trial sits "at an edge" within this fraction of the old range
SIGNIFICANT = 3      # significant digits of the new float bounds (rounded outward)


def top_trials(trials, direction, top, name="the study"):
    """The best max(MIN_TOP, ceil(top x complete)) complete trials, best first."""
    ranked = best_first(trials, direction)
    if len(ranked) < MIN_TOP:
        raise ConfigError(f"search.narrow_from: {name} has {len(ranked)} complete trial(s); "
                          f"narrowing needs at least {MIN_TOP} in its top fraction")
    return ranked[:min(len(ranked), max(MIN_TOP, math.ceil(top * len(ranked))))]


def _scale(log):
    return (math.log10, lambda x: 10 ** x) if log else (float, float)


def _round_out(x, down):
    if x == 0 or not math.isfinite(x):
        return x
    e = math.floor(math.log10(abs(x))) - SIGNIFICANT + 1
    k = (math.floor if down else math.ceil)(x / 10 ** e)
    return float(f"{k}e{e}")  # not k * 10**e: 441 * 1e-5 prints as 0.004410000000000001


def _on_grid(x, origin, step, down):
    k = (x - origin) / step
    k = math.floor(k + 1e-9) if down else math.ceil(k - 1e-9)
    value = origin + k * step
    return int(round(value)) if isinstance(step, int) and isinstance(origin, int) else value


def narrow_range(spec, values, best, margin, allowed=lambda v: True):
    """The new (low, high) of a float/int dimension from the top trials' values."""
    to, back = _scale(spec.get("log", False))
    old_lo, old_hi = to(spec["low"]), to(spec["high"])
    lo, hi = to(min(values)), to(max(values))
    span = hi - lo
    if span:
        new_lo, new_hi = lo - margin * span, hi + margin * span
    else:  # the top trials agree: a tenth of the old range around their value
        new_lo, new_hi = lo - 0.05 * (old_hi - old_lo), hi + 0.05 * (old_hi - old_lo)
    edge = EDGE * (old_hi - old_lo)
    if to(best) - old_lo > edge or not allowed(back(new_lo)):
        new_lo = max(new_lo, old_lo)
    if old_hi - to(best) > edge or not allowed(back(new_hi)):
        new_hi = min(new_hi, old_hi)
    low, high = back(new_lo), back(new_hi)
    step = spec.get("step")
    if spec["type"] == "int":
        low, high = math.floor(low + 1e-9), math.ceil(high - 1e-9)
        if step and step != 1:
            low, high = (_on_grid(low, spec["low"], step, True),
                         _on_grid(high, spec["low"], step, False))
    elif step:
        low, high = (_on_grid(low, spec["low"], step, True),
                     _on_grid(high, spec["low"], step, False))
    else:
        low, high = _round_out(low, True), _round_out(high, False)
        low = spec["low"] if low < spec["low"] and new_lo >= old_lo else low
        high = spec["high"] if high > spec["high"] and new_hi <= old_hi else high
    return low, high


def _layers(path, spec, top):
    depths = [t.params[f"{path}.depth"] for t in top if f"{path}.depth" in t.params]
    units = [v for t in top for k, v in t.params.items()
             if k.startswith(f"{path}.units")]
    if not depths or not units:
        return dict(spec)
    return {**spec, "depth_low": min(depths), "depth_high": max(depths),
            "units_low": min(units), "units_high": max(units)}


def narrow_dims(dims, top, margin, allowed=lambda path, value: True):
    """{path: new spec} from the top trials (best first)."""
    out = {}
    for path, spec in dims.items():
        kind = spec["type"]
        if kind == "layers":
            out[path] = _layers(path, spec, top)
            continue
        if spec.get("by"):
            out[path] = _by_choice(path, spec, top, margin, allowed)
            continue
        values = [t.params[path] for t in top if path in t.params]
        if not values:
            out[path] = dict(spec)
        elif kind == "categorical":
            seen = set(map(repr, values))
            out[path] = {**spec, "choices": [c for c in spec["choices"] if repr(c) in seen]}
        else:
            best = top[0].params.get(path, values[0])
            low, high = narrow_range(spec, values, best, margin,
                                     lambda v, p=path: allowed(p, v))
            out[path] = {**spec, "low": low, "high": high}
    return out


def _by_choice(path, spec, top, margin, allowed):
    """A range per choice (search.config.space_by), each narrowed from the top trials that
    made that choice; a choice none of them made keeps its range (its dimension drops it)."""
    ranges = {}
    for choice, (low, high) in spec["ranges"].items():
        name = f"{path}.{choice}"
        values = [t.params[name] for t in top if name in t.params]
        one = {"type": "float", "low": low, "high": high, "log": spec.get("log", False)}
        ranges[choice] = list(narrow_range(one, values, values[0], margin,  # top: best first
                                           lambda v, p=path: allowed(p, v))) \
            if values else [low, high]
    return {**spec, "ranges": ranges}


def _by_rows(path, spec, top):
    rows = []
    for choice, (low, high) in spec["ranges"].items():
        values = [t.params[f"{path}.{choice}"] for t in top if f"{path}.{choice}" in t.params]
        if values:
            rows.append((f"{path}.{choice}", f"{_txt(low)}-{_txt(high)}",
                         f"{_txt(min(values))}-{_txt(max(values))}"))
    return rows


def span_rows(dims, top):
    """For the report: (path, searched range text, top trials' range text) per dimension."""
    rows = []
    for path, spec in dims.items():
        kind = spec["type"]
        if spec.get("by"):
            rows += _by_rows(path, spec, top)
            continue
        if kind == "layers":
            got = _layers(path, spec, top)
            rows.append((path, f"depth {spec['depth_low']}-{spec['depth_high']}, units "
                               f"{spec['units_low']}-{spec['units_high']}",
                         f"depth {got['depth_low']}-{got['depth_high']}, units "
                         f"{got['units_low']}-{got['units_high']}"))
            continue
        values = [t.params[path] for t in top if path in t.params]
        if not values:
            continue
        if kind == "categorical":
            seen = set(map(repr, values))
            rows.append((path, ", ".join(map(_txt, spec["choices"])),
                         ", ".join(_txt(c) for c in spec["choices"] if repr(c) in seen)))
        else:
            rows.append((path, f"{_txt(spec['low'])}-{_txt(spec['high'])}",
                         f"{_txt(min(values))}-{_txt(max(values))}"))
    return rows


def _txt(v):
    if v is None:
        return "null"
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def nested_space(dims):
    """{'train': {'learning_rate': {...}}, ...}: dims as a search.space config node."""
    out = {}
    for path, spec in dims.items():
        node = out
        *parents, leaf = path.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = dict(spec)
    return out


def distributions(dims, params):
    """The Optuna distributions suggest() would give the dims for a trial with params."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
    out = {}
    for path, spec in dims.items():
        kind = spec["type"]
        if spec.get("by"):
            choice = str(params.get(spec["by"]))
            if choice in spec["ranges"]:
                low, high = spec["ranges"][choice]
                out[f"{path}.{choice}"] = FloatDistribution(low, high, log=spec.get("log", False))
        elif kind == "float":
            out[path] = FloatDistribution(spec["low"], spec["high"], log=spec.get("log", False),
                                          step=spec.get("step"))
        elif kind == "int":
            out[path] = IntDistribution(spec["low"], spec["high"], log=spec.get("log", False),
                                        step=spec.get("step") or 1)
        elif kind == "categorical":
            out[path] = CategoricalDistribution(spec["choices"])
        else:
            out[f"{path}.depth"] = IntDistribution(spec["depth_low"], spec["depth_high"])
            units = IntDistribution(spec["units_low"], spec["units_high"], log=spec.get("log", True))
            if spec.get("shared", False):
                out[f"{path}.units"] = units
            else:
                depth = params.get(f"{path}.depth", 0)
                out.update({f"{path}.units_{l}": units for l in range(1, depth + 1)})
    return out


def _inside(dist, value):
    from optuna.distributions import CategoricalDistribution

    if isinstance(dist, CategoricalDistribution):
        return any(repr(value) == repr(c) for c in dist.choices)
    if not isinstance(value, (int, float)) or not dist.low <= value <= dist.high:
        return False
    step = getattr(dist, "step", None)
    return not step or abs((value - dist.low) / step - round((value - dist.low) / step)) < 1e-8


def warm_start_trials(old_trials, dims, old_name):
    """The old study's complete trials inside dims, as new complete trials that point to
    their original MLflow runs (never re-trained)."""
    out = []
    for t in old_trials:
        if t.state != optuna.trial.TrialState.COMPLETE:
            continue
        dists = distributions(dims, t.params)
        if set(dists) != set(t.params) or not all(_inside(d, t.params[k]) for k, d in dists.items()):
            continue
        attrs = {links.WARM_START: f"{old_name}#{t.number}",
                 **{k: t.user_attrs[k] for k in (links.TRIAL_RUN, links.METRICS) if k in t.user_attrs}}
        out.append(optuna.trial.create_trial(
            values=t.values, params=dict(t.params), distributions=dists, user_attrs=attrs,
            intermediate_values=dict(t.intermediate_values)))
    return out
