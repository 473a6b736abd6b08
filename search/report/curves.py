"""The lecture's picture for a whole study: every trial's cost curve on one figure,
coloured by one hyperparameter.

The curves come from the MLflow metric histories of the trials' runs. Finished trials
only: complete ones drawn solid, pruned ones faint and dashed with a cross where they
stopped; failed trials are left out and counted in the caption. Every colour is named:
by the colour bar or the legend, and the trials that lack the parameter (a layer they do
not have) are grey with a legend entry of their own.
"""
import math
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from search import links
from search.tracking.client import histories

FETCH_THREADS = 8      # metric histories fetched at once (a tracking server answers in parallel)
MAX_POINTS = 400       # points drawn per curve: enough for a 6-inch figure, fast with 200 curves
LOG_Y_RATIO = 20.0     # a log y axis once the values span more than this factor
FEW_VALUES = 10        # an int parameter with at most this many values gets a legend


@dataclass
class Curve:
    number: int          # the trial's number
    state: str           # COMPLETE or PRUNED
    steps: list
    values: list
    color_value: object  # the trial's value of the colouring hyperparameter (None: absent)
    run_id: str = None


@dataclass
class CurveSet:
    """The data behind one figure."""
    metric: str
    color_by: str
    curves: list = field(default_factory=list)
    n_failed: int = 0
    n_without_history: int = 0   # finished trials whose run holds no point of the metric
    log_y: bool = False
    color_kind: str = "none"     # "log", "linear", "categorical" or "none"


def fetch_histories(client, run_ids, keys):
    """{run_id: {key: [(step, value), ...]}}: each run's whole curves (its history.npz, else
    MLflow's metric histories), several runs at a time (a tracking server, or SQLite,
    answers each in a few ms)."""
    jobs = [r for r in dict.fromkeys(run_ids) if r]

    def one(run_id):
        try:
            return run_id, histories(client, run_id, keys)
        except Exception:  # noqa: BLE001 - a deleted run: drawn without it
            return run_id, {k: [] for k in keys}

    with ThreadPoolExecutor(min(FETCH_THREADS, max(1, len(jobs)))) as pool:
        return dict(pool.map(one, jobs))


def color_kind(trials, color_by):
    """How a hyperparameter's values map to colours, from its Optuna distribution."""
    import optuna.distributions as od

    for t in trials:
        dist = t.distributions.get(color_by)
        if dist is None:
            continue
        if isinstance(dist, od.CategoricalDistribution):
            return "categorical"
        if isinstance(dist, od.IntDistribution) and \
                (dist.high - dist.low) // dist.step + 1 <= FEW_VALUES:
            return "categorical"  # a depth of 1-4: four colours in a legend, not a scale
        return "log" if getattr(dist, "log", False) else "linear"
    return "none"


def collect(trials, histories, metric, color_by):
    """The CurveSet of metric for the finished trials (FrozenTrials with their
    mlflow_run_id user attribute), coloured by the parameter color_by."""
    curves, failed, missing = [], 0, 0
    for t in trials:
        state = t.state.name
        if state == "FAIL":
            failed += 1
            continue
        if state not in ("COMPLETE", "PRUNED"):
            continue
        run_id = links.trial_run_id(t)
        points = histories.get(run_id, {}).get(metric, [])
        if not points:
            missing += 1
            continue
        steps, values = zip(*points)
        curves.append(Curve(t.number, state, list(steps), list(values),
                            t.params.get(color_by) if color_by else None, run_id))
    finite = [v for c in curves for v in c.values if math.isfinite(v)]
    log_y = bool(finite) and min(finite) > 0 and max(finite) / min(finite) > LOG_Y_RATIO
    kind = color_kind(trials, color_by) if color_by else "none"
    return CurveSet(metric, color_by, curves, failed, missing, log_y, kind)


def caption(curve_set):
    n_pruned = sum(c.state == "PRUNED" for c in curve_set.curves)
    text = (f"{curve_set.metric} of {len(curve_set.curves)} trials "
            f"({n_pruned} pruned: dashed, x where stopped)")
    if curve_set.n_failed:
        text += f"; {curve_set.n_failed} failed trial(s) not shown"
    if curve_set.n_without_history:
        text += f"; {curve_set.n_without_history} without a curve"
    return text


def _thin(steps, values):
    k = max(1, math.ceil(len(steps) / MAX_POINTS))
    if k == 1:
        return list(zip(steps, values))
    idx = list(range(0, len(steps), k))
    if idx[-1] != len(steps) - 1:
        idx.append(len(steps) - 1)
    return [(steps[i], values[i]) for i in idx]


def absent_label(color_by):
    """The legend entry of the trials without the colouring parameter: a per-layer width
    (model.hidden_units.units_2) is absent from the trials with fewer layers."""
    layer = re.search(r"\.units_(\d+)$", color_by or "")
    return f"no layer {layer.group(1)}" if layer else f"no {color_by}"


@dataclass
class ColourKey:
    """How the curves of a figure are coloured, and the key that names every colour."""
    colors: list                 # one RGBA per curve
    legend: list                 # (label, RGBA): every colour not read off the colour bar
    scale: tuple = None          # (norm, cmap) of a colour bar, or None


def colour_key(curve_set):
    """Every curve's colour, each named by a legend entry or the colour bar: categories
    (and small ints) get a legend, numbers a colour bar, and the trials that lack the
    parameter (a layer they do not have) a grey legend entry of their own."""
    import matplotlib
    from matplotlib import colors as mcolors

    values = [c.color_value for c in curve_set.curves]
    grey = (0.5, 0.5, 0.5, 1.0)
    absent = [(absent_label(curve_set.color_by), grey)] if None in values else []
    if curve_set.color_kind == "categorical":
        choices = list(dict.fromkeys(v for v in values if v is not None))
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in choices):
            choices.sort()
        cmap = matplotlib.colormaps["tab10"]
        table = {v: cmap(i % 10) for i, v in enumerate(choices)}
        return ColourKey([table.get(v, grey) for v in values],
                         [(str(v), table[v]) for v in choices] + absent)
    numeric = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if curve_set.color_kind in ("log", "linear") and numeric:
        low, high = min(numeric), max(numeric)
        if high == low:
            high = low + (abs(low) or 1.0)
        norm = (mcolors.LogNorm(low, high) if curve_set.color_kind == "log" and low > 0
                else mcolors.Normalize(low, high))
        cmap = matplotlib.colormaps["viridis"]
        return ColourKey([cmap(norm(v)) if v in numeric else grey for v in values], absent,
                         (norm, cmap))
    return ColourKey([matplotlib.colormaps["tab10"](0)] * len(values), [])


def _add_key(ax, fig, curve_set, key):
    from matplotlib.cm import ScalarMappable
    from matplotlib.lines import Line2D

    if key.scale is not None:
        norm, cmap = key.scale
        fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=curve_set.color_by)
    if key.legend:
        handles = [Line2D([], [], color=color, lw=2, label=label) for label, color in key.legend]
        ax.legend(handles=handles, title=curve_set.color_by, fontsize=7, title_fontsize=7,
                  loc="upper right", framealpha=0.8)


def draw(curve_set, path, ylabel=None):
    """Save the figure of curve_set as a PNG at path; returns path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Optuna's matplotlib plots switch the global style to ggplot: not these figures.
    with plt.style.context("default"):
        fig, ax = plt.subplots(figsize=(8, 5))
        _draw_on(ax, fig, curve_set, ylabel)
        fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return path


def _draw_on(ax, fig, curve_set, ylabel):
    from matplotlib.collections import LineCollection

    key = colour_key(curve_set)
    colors = key.colors
    # Complete trials over pruned ones; each group one LineCollection (fast for 200 curves).
    for state, alpha, style, width in (("PRUNED", 0.3, (0, (4, 3)), 0.7),
                                       ("COMPLETE", 0.75, "solid", 1.0)):
        chosen = [(c, col) for c, col in zip(curve_set.curves, colors) if c.state == state]
        if not chosen:
            continue
        segments = [_thin(c.steps, c.values) for c, _ in chosen]
        ax.add_collection(LineCollection(segments, colors=[col for _, col in chosen],
                                         linewidths=width, linestyles=style, alpha=alpha))
        if state == "PRUNED":
            ax.scatter([c.steps[-1] for c, _ in chosen], [c.values[-1] for c, _ in chosen],
                       marker="x", s=14, c=[col for _, col in chosen], alpha=0.8,
                       linewidths=0.8)
    if curve_set.curves:
        ax.autoscale_view()
    if curve_set.log_y:
        ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel(ylabel or curve_set.metric)
    ax.set_title(caption(curve_set), fontsize=9)
    ax.grid(alpha=0.3)
    _add_key(ax, fig, curve_set, key)
