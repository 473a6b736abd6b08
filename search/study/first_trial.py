"""A new study's first trial: the settings a practitioner tries first, where the space allows
them, queued before any sampled trial (search.first_trial=usual; the default, sampled, queues
none: measured against MLPClassifier on digits, three paired runs, the usual first trial
scored 0.9611, 0.9685, 0.9778 against 0.9796, 0.9611, 0.9796 without it: its early bar made
the median pruner stop more trials, and nothing was gained; docs/benchmarks.md).

A sampler knows nothing before its first trials: TPE draws its first 10 at random, and on a
wide space (four activations, three optimizers, one to four layers) a short study can spend
its whole budget there. The usual settings, those of scikit-learn's MLPClassifier and most
tutorials, are a good model on most tables at once, and give the pruner and the sampler a
sound first point:

    Adam at a rate of 1e-3, ReLU, one hidden layer as wide as the space allows, mini-batches
    of 64 (the nearest size the space offers; full batch when it offers no other), no L2
    penalty (the range's low end) and no dropout (keep_prob's high end).

A dimension without a usual value here (or whose usual value is outside its choices) is
left to the sampler: Optuna samples what an enqueued trial does not fix. The trial is
queued once, by the launcher that creates the study; a warm-started study (narrow_from)
starts from its source's best trials instead, and a grid sampler walks its grid.
"""
import math

from omegaconf import OmegaConf

from search.config import base_run_config
from search.config.overrides import as_overrides
from search.study.space import values_from_params

USUAL_CHOICES = {"train.optimizer": "adam", "model.activation": "relu"}
USUAL_RATES = {"adam": 1e-3}  # other optimizers: the middle of their range (log scale)
USUAL_BATCH = 64
FLOAT_ENDS = {"train.lambd": "low", "train.keep_prob": "high"}


def queue_usual(study, cfg, dims, say):
    """Queue the usual first trial on a study this launcher has just created, and say so."""
    search = cfg.search
    if search.first_trial != "usual" or search.narrow_from \
            or search.sampler._target_ == "optuna.samplers.GridSampler":
        return
    params = usual_params(dims, base_run_config(cfg))
    if params:
        study.enqueue_trial(params)
        say(f"first trial: the usual settings the space allows: {describe(params, dims)} "
            "(search.first_trial=sampled: sample it too)")


def usual_params(dims, run_cfg):
    """{Optuna parameter name: value} of the usual settings inside dims (search.study.space
    names: train.learning_rate.adam for a rate by optimizer, model.hidden_units.depth and
    .units_1 for layers); the dimensions without a usual value are absent."""
    params = {}
    # Choices first, so that a plain learning rate takes the chosen optimizer's usual rate.
    for path, spec in sorted(dims.items(), key=lambda d: d[1]["type"] != "categorical"):
        if spec["type"] == "categorical":
            value = _usual_choice(path, spec["choices"])
            if value is not _NONE:
                params[path] = value
        elif spec["type"] == "layers":
            params.update(_usual_layers(path, spec))
        elif spec["type"] == "float" and not spec.get("by"):
            value = _usual_float(path, spec, params, run_cfg)
            if value is not None:
                params[path] = value
    for path, spec in dims.items():  # a rate by optimizer: under the optimizer chosen above
        if spec.get("by"):
            choice = params.get(spec["by"])
            if choice is not None and str(choice) in spec["ranges"]:
                low, high = spec["ranges"][str(choice)]
                params[f"{path}.{choice}"] = _rate(str(choice), low, high)
    return params


_NONE = object()


def _usual_choice(path, choices):
    if path in USUAL_CHOICES:
        return USUAL_CHOICES[path] if USUAL_CHOICES[path] in choices else _NONE
    if path == "train.batch_size":
        sizes = [c for c in choices if c is not None]
        if not sizes:
            return None if None in choices else _NONE
        return min(sizes, key=lambda b: (abs(math.log2(b / USUAL_BATCH)), b))
    return _NONE


def _usual_layers(path, spec):
    depth = min(max(1, spec["depth_low"]), spec["depth_high"])
    width = spec["units_high"]
    if spec.get("shared", False):
        return {f"{path}.depth": depth, f"{path}.units": width}
    return {f"{path}.depth": depth, **{f"{path}.units_{l}": width for l in range(1, depth + 1)}}


def _usual_float(path, spec, params, run_cfg):
    if path in FLOAT_ENDS:
        return spec[FLOAT_ENDS[path]]
    if path == "train.learning_rate":
        optimizer = params.get("train.optimizer",
                               OmegaConf.select(run_cfg, "train.optimizer", default=None))
        return _rate(str(optimizer), spec["low"], spec["high"])
    return None


def _rate(optimizer, low, high):
    """The optimizer's usual rate within [low, high], else the range's middle on a log scale."""
    rate = USUAL_RATES.get(optimizer, math.sqrt(low * high) if low > 0 else (low + high) / 2)
    return min(max(rate, low), high)


def describe(params, dims):
    """The queued trial as the overrides it sets, for the sweep's start lines."""
    values = values_from_params(params, dims)
    return " ".join(as_overrides(values)) if values else ""
