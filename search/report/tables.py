"""What a sweep shows at the end: the best trials table, a CSV of all trials, Optuna's plots."""
import warnings
from pathlib import Path

import optuna

from search import links
from search.config.overrides import override_key
from search.secrets import mask
from search.study import space as space_mod
from search.study.ranking import ranked

PLOTS = ("optimization_history", "param_importances", "parallel_coordinate",
         "intermediate_values", "slice")


def best_summary(study, metrics):
    top = ranked(study)
    if not top:
        return {}
    t = top[0]
    return {"values": {f"best_{m}": v for m, v in zip(metrics, t.values)},
            "params": t.params, "run_id": links.trial_run_id(t), "number": t.number}


def summary_table(study, metrics, dims, base_overrides, top_k, cv=None, trial_settings=()):
    """Lines to print: the top_k trials and the commands that re-run the best one
    (trial_settings: the overrides a trial trains with beyond dnn-train's, such as
    train.patience=10)."""
    top = ranked(study)[:top_k]
    if not top:
        return ["no trial completed"]
    shown = [*metrics, *(m for m in ("val_accuracy",) if m not in metrics)]
    widths = [max(12, len(m)) for m in shown]  # val_balanced_accuracy: 21 characters
    lines = [f"best {len(top)} trial(s) by {metrics[0]}:",
             f"  {'#':>4}  {'  '.join(f'{m:>{w}}' for m, w in zip(shown, widths))}  "
             f"{'MLflow run':32}  params"]
    for t in top:
        extra = [links.trial_metrics(t).get(m, float("nan")) for m in shown[len(metrics):]]
        values = "  ".join(f"{v:{w}.5g}" for v, w in zip([*t.values, *extra], widths))
        params = " ".join(space_mod.as_overrides(space_mod.values_from_params(t.params, dims)))
        if links.warm_start_source(t):  # a copy of an old study's trial, its run that one's
            params = f"(warm start: {links.warm_start_source(t)}) {params}"
        lines.append(f"  {t.number:>4}  {values}  {links.trial_run_id(t) or '-':32}  {params}")
    best = top[0]
    sampled = space_mod.values_from_params(best.params, dims)
    # A base override of a searched key (train.num_iterations=30) is replaced by its sample.
    kept = [o for o in base_overrides if override_key(o) not in sampled]
    given = {override_key(o) for o in kept}
    settings = [o for o in trial_settings if override_key(o) not in sampled and override_key(o) not in given]
    overrides = [*kept, *settings, *space_mod.as_overrides(sampled)]
    if cv is not None and cv.folds:
        overrides += [f"cv.folds={cv.folds}", f"cv.repeats={cv.repeats}"]
    lines += ["", "re-run the best trial:",
              "  dnn-train " + " ".join(_quote(o) for o in overrides),
              f"  dnn-reproduce {links.trial_run_id(best) or 'RUN_ID'}"]
    return [mask(line) for line in lines]


def _quote(override):
    return f"'{override}'" if any(c in override for c in "[]{}, ") else override


def trials_frame(study):
    """Optuna's trials_dataframe, typed for reading: one column per objective (named by the
    study's metric names), one per parameter with its own type (integers stay integers where
    a trial lacks them), one per metric of the run, the state, the duration in seconds and
    the MLflow run id."""
    import pandas as pd

    df = study.trials_dataframe(attrs=("number", "state", "value", "duration", "params",
                                       "user_attrs"), multi_index=False)
    if df.empty:
        return df
    kinds = {}
    for t in study.get_trials(deepcopy=False):
        for name, dist in t.distributions.items():
            kinds.setdefault(f"params_{name}", dist)
    for col, dist in kinds.items():
        if _integer_valued(dist) and col in df:
            df[col] = df[col].astype("Int64")
    df["duration"] = df["duration"].dt.total_seconds()
    df = df.rename(columns={"duration": "duration_s"})
    objectives = [c for c in df.columns if c not in kinds and not c.startswith("user_attrs_")
                  and c not in ("number", "state", "duration_s")]
    metrics = pd.DataFrame([m if isinstance(m, dict) else {}
                            for m in df.pop("user_attrs_metrics")]
                           if "user_attrs_metrics" in df else [], index=df.index)
    metrics = metrics[[c for c in metrics.columns if c not in (study.metric_names or ())]]
    attrs = {c: c[len("user_attrs_"):] for c in df.columns if c.startswith("user_attrs_")}
    df = df.rename(columns=attrs)
    keep = [c for c in ("mlflow_run_id", "retry_of", "fail_reason") if c in df]
    if "retry_of" in df:
        df["retry_of"] = df["retry_of"].astype("Int64")
    return pd.concat([df[["number", "state", *objectives, "duration_s", *kinds]], metrics,
                      df[keep]], axis=1)


def _integer_valued(dist):
    """An int parameter, or a categorical one whose choices are integers (or null)."""
    if isinstance(dist, optuna.distributions.IntDistribution):
        return True
    return (isinstance(dist, optuna.distributions.CategoricalDistribution)
            and any(c is not None for c in dist.choices)
            and all(c is None or (isinstance(c, int) and not isinstance(c, bool))
                    for c in dist.choices))


def write_trials_csv(study, path):
    trials_frame(study).to_csv(path, index=False)
    return path


def import_plotting():
    """The plotting stack; ~2.5 s the first time (importances bring scikit-learn)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import optuna.importance  # noqa: F401
    from optuna.visualization import matplotlib as ovm  # noqa: F401


def write_plots(study, folder, names=PLOTS):
    """Optuna's plots as PNG files; one it cannot draw yet is skipped with a note."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as ovm

    written, skipped = [], []
    for name in names:
        path = Path(folder) / f"{name}.png"
        try:
            with warnings.catch_warnings():
                # Optuna marks these plots experimental; matplotlib warns on crowded layouts.
                warnings.simplefilter("ignore")
                kwargs = {"target": lambda t: t.values[0], "target_name": "objective"} \
                    if len(study.directions) > 1 and name != "intermediate_values" else {}
                if name == "param_importances":
                    # PED-ANOVA: seconds faster than the default fANOVA forest per sweep.
                    kwargs["evaluator"] = optuna.importance.PedAnovaImportanceEvaluator()
                ax = getattr(ovm, f"plot_{name}")(study, **kwargs)
                fig = ax.ravel()[0].figure if hasattr(ax, "ravel") else ax.figure
                fig.savefig(path, dpi=80, bbox_inches="tight")  # may warn on crowded slices
            plt.close("all")
            written.append(path)
        except Exception as e:  # noqa: BLE001 - too few trials, a constant parameter, ...
            plt.close("all")
            skipped.append(f"{name}: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
    return written, skipped
