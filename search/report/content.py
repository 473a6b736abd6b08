"""What a study's report says: importances, where the good trials are, the narrowed
study to run next, the data it ran on. Plain values for search/tracking/study_report."""
import optuna

from search import links
from search.config import ConfigError
from search.run.train import load_run_data
from search.secrets import mask
from search.study import narrow
from search.study.definition import DEFINITION_KEY
from search.study.ranking import ranked
from search.study.space import param_names
from search.study.study import as_list

EVALUATOR = "PedAnovaImportanceEvaluator"
NAMES = {"train.learning_rate": "learning rate", "train.lambd": "L2 (lambd)",
         "train.num_iterations": "iterations", "train.batch_size": "mini-batch size",
         "model.hidden_units": "hidden layers", "model.activation": "activation"}


def importances(study):
    """{param: importance} on the first objective, most important first ({} when the
    study cannot tell yet: too few complete trials)."""
    import warnings

    # PED-ANOVA rates what makes the target low: a maximized metric is negated.
    sign = -1.0 if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else 1.0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return optuna.importance.get_param_importances(
                study, evaluator=optuna.importance.PedAnovaImportanceEvaluator(),
                target=lambda t: sign * t.values[0])
    except Exception:  # noqa: BLE001 - too few trials, one constant parameter, ...
        return {}


def color_by(search, dims, found):
    chosen = search.report.color_by
    if chosen and chosen in dims and dims[chosen]["type"] == "layers":
        return f"{chosen}.depth"
    if chosen:
        return chosen
    if found:
        return next(iter(found))
    names = param_names(dims)
    return names[0] if names else None


def narrowed_command(cfg, base_overrides):
    """The dnn-sweep command of the narrowed study suggested by this one."""
    keep = [o for o in base_overrides]
    search = cfg.search
    if search.storage:
        keep.append(f"search.storage={search.storage}")
    for key in ("metric", "direction"):
        value = search[key]
        if as_list(value) != (["val_cost"] if key == "metric" else ["minimize"]):
            keep.append(f"search.{key}={value}")
    if search.cv.folds:
        keep += [f"search.cv.folds={search.cv.folds}", f"search.cv.repeats={search.cv.repeats}"]
    keep.append(f"search.narrow_from={cfg.search.study_name}")
    quoted = [f"'{o}'" if any(c in o for c in "[]{}, ") else o for o in keep]
    return mask("dnn-sweep " + " ".join(quoted))


def sentences(rows):
    return [f"{NAMES.get(path, path)}: good trials span {top} of {searched} searched"
            for path, searched, top in rows]


def data_rows(study, cfg):
    definition = study.user_attrs.get(DEFINITION_KEY) or {}
    rows = [("data set", cfg.data.name)]
    if definition.get("data.digest"):
        rows.append(("digest", definition["data.digest"]))
    try:
        data = load_run_data(cfg)[0]
        for split in ("train", "val", "test"):
            Y = getattr(data, f"Y_{split}", None)
            if Y is None:
                continue
            counts = (Y.sum(axis=1) if Y.shape[0] > 1
                      else [int((Y == 0).sum()), int((Y == 1).sum())])
            rows.append((f"{split} examples", f"{Y.shape[1]} (per class: "
                         f"{', '.join(str(int(c)) for c in counts)})"))
    except Exception:  # noqa: BLE001 - the report goes on without the counts
        pass
    return rows


def best_rows(top, metrics, k=5):
    header = ("trial", *metrics, "MLflow run")
    return [header, *[(t.number, *(f"{v:.5g}" for v in t.values),
                       (links.trial_run_id(t) or "-")) for t in top[:k]]]


def report_content(study, cfg, dims, base_overrides, verdict=None):
    """Everything report.html shows, as plain values."""
    metrics = as_list(cfg.search.metric)
    found = importances(study)
    top_all = ranked(study)
    content = {"title": f"Study {study.study_name}", "metric": metrics[0],
               "evaluator": EVALUATOR, "importances": found,
               "color_by": color_by(cfg.search, dims, found), "verdict": verdict,
               "data": data_rows(study, cfg), "best": best_rows(top_all, metrics)}
    try:
        top = narrow.top_trials(top_all, study.directions[0], cfg.search.narrow.top)
    except ConfigError:
        return content  # fewer than 3 complete trials: nothing to narrow yet
    rows = narrow.span_rows(dims, top)
    content.update(spans=rows, sentences=sentences(rows),
                   top_label=f"{len(top)} of {len(top_all)} complete trials",
                   command=narrowed_command(cfg, base_overrides))
    return content
