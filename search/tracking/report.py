"""What a sweep shows at the end: the best trials table, a CSV of all trials, Optuna's plots."""
import warnings
from pathlib import Path

import optuna

from search.study import space as space_mod
from search.secrets import mask

PLOTS = ("optimization_history", "param_importances", "parallel_coordinate",
         "intermediate_values", "slice")


def ranked(study, metric_index=0):
    """Complete trials, best first on the first objective."""
    sign = 1 if study.directions[metric_index] == optuna.study.StudyDirection.MINIMIZE else -1
    done = [t for t in study.get_trials(deepcopy=False)
            if t.state == optuna.trial.TrialState.COMPLETE]
    return sorted(done, key=lambda t: sign * t.values[metric_index])


def best_summary(study, metrics):
    top = ranked(study)
    if not top:
        return {}
    t = top[0]
    return {"values": {f"best_{m}": v for m, v in zip(metrics, t.values)},
            "params": t.params, "run_id": t.user_attrs.get("mlflow_run_id"), "number": t.number}


def summary_table(study, metrics, dims, base_overrides, top_k, cv=None):
    """Lines to print: the top_k trials and the commands that re-run the best one."""
    top = ranked(study)[:top_k]
    if not top:
        return ["no trial completed"]
    shown = [*metrics, *(m for m in ("val_accuracy",) if m not in metrics)]
    lines = [f"best {len(top)} trial(s) by {metrics[0]}:",
             f"  {'#':>4}  {'  '.join(f'{m:>12}' for m in shown)}  {'MLflow run':32}  params"]
    for t in top:
        extra = [t.user_attrs.get("metrics", {}).get(m, float("nan")) for m in shown[len(metrics):]]
        values = "  ".join(f"{v:12.5g}" for v in [*t.values, *extra])
        params = " ".join(space_mod.as_overrides(space_mod.values_from_params(t.params, dims)))
        lines.append(f"  {t.number:>4}  {values}  {t.user_attrs.get('mlflow_run_id', '-'):32}  {params}")
    best = top[0]
    sampled = space_mod.values_from_params(best.params, dims)
    # A base override of a searched key (train.num_iterations=30) is replaced by its sample.
    kept = [o for o in base_overrides if o.lstrip("+~").split("=", 1)[0] not in sampled]
    overrides = [*kept, *space_mod.as_overrides(sampled)]
    if cv is not None and cv.folds:
        overrides += [f"cv.folds={cv.folds}", f"cv.repeats={cv.repeats}"]
    lines += ["", "re-run the best trial:",
              "  dnn-train " + " ".join(_quote(o) for o in overrides),
              f"  dnn-reproduce {best.user_attrs.get('mlflow_run_id', 'RUN_ID')}"]
    return [mask(line) for line in lines]


def _quote(override):
    return f"'{override}'" if any(c in override for c in "[]{}, ") else override


def write_trials_csv(study, path):
    df = study.trials_dataframe(attrs=("number", "value", "values", "state", "params",
                                       "user_attrs", "duration"), multi_index=False)
    df.to_csv(path, index=False)
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
