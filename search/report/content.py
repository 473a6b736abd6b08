"""What a study's report says, one function per section of report.html: the study it was
narrowed from and its warm starts, the verdict, the refit and the champion model, the data
it ran on, the best trials, importances, where the good trials are and the narrowed study
to run next. Plain values for the template (search/report/templates/report.html.j2),
which page.py renders.

A new section: one function here marked @section, returning the values it shows, and one
block in the template that shows them."""
from dataclasses import dataclass
from functools import cached_property

import optuna

from search import links
from search.config import ConfigError
from search.run.train import load_run_data
from search.secrets import mask
from search.study import narrow
from search.study.definition import DEFINITION_KEY
from search.study.narrow_from import NARROWED_KEY
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


def color_by(search, dims, found, trials=()):
    """The parameter the cost curves are coloured by: search.report.color_by (a layers
    dimension: its depth), else the most important one that every finished trial has; a
    per-layer width that some lack (units_2 of the one-layer trials) gives way to the depth
    that decides it, a rate by optimizer to the optimizer."""
    chosen = search.report.color_by
    if chosen and chosen in dims and dims[chosen]["type"] == "layers":
        return f"{chosen}.depth"
    if chosen:
        return chosen
    finished = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
    for name in [*found, *param_names(dims)]:
        if all(name in t.params for t in finished):
            return name
        depth = _depth_of(name, dims)
        if depth:
            return depth
    return None


def _depth_of(name, dims):
    """The parameter that decides whether name exists: the depth of the layers dimension a
    width belongs to, the choice a range by choice depends on (train.learning_rate.adam:
    train.optimizer); or None."""
    return next((f"{path}.depth" if spec["type"] == "layers" else spec["by"]
                 for path, spec in dims.items()
                 if (spec["type"] == "layers" and name.startswith(f"{path}.units"))
                 or (spec.get("by") and name.startswith(f"{path}."))), None)


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
    """The table of the k best trials; a column says which are warm starts, when any is."""
    warm = any(links.warm_start_source(t) for t in top[:k])
    header = ("trial", *metrics, "MLflow run", *(("warm start from",) if warm else ()))
    return [header, *[(t.number, *(f"{v:.5g}" for v in t.values),
                       links.trial_run_id(t) or "-",
                       *((links.warm_start_source(t) or "",) if warm else ()))
                      for t in top[:k]]]


def warm_start_rows(trials, metrics):
    """The trials copied from the study narrowed from (their results and runs are the old
    study's), in trial order."""
    header = ("trial", "copied from", *metrics, "MLflow run")
    return [header, *[(t.number, links.warm_start_source(t),
                       *(f"{v:.5g}" for v in t.values or ()), links.trial_run_id(t) or "-")
                      for t in trials if links.warm_start_source(t)]]


def refit_rows(mark):
    """The finished refit (links.refit_mark): its trial, run, test scores and the
    registered model it became, when there is one."""
    rows = [("trial", mark["trial"]), ("MLflow run", mark["run_id"])]
    rows += [(k, f"{v:.5g}") for k, v in mark.items()
             if k.startswith("test_") and not k.endswith("_std")]
    if mark.get("model"):
        rows.append(("registered model (champion)", mark["model"]))
    return rows


# -- the sections: one function each, in any order (the template places them) ------------------

SECTIONS = []


def section(fn):
    """Register fn(facts) -> {template name: value} as a section of report.html; an empty
    dict (or falsy values) leaves its block out of the page."""
    SECTIONS.append(fn)
    return fn


@dataclass
class Facts:
    """What the sections read: the study, its config and space, and a few things worked
    out once for all of them."""
    study: optuna.Study
    cfg: object
    dims: dict
    base_overrides: list
    verdict_lines: list = None

    @cached_property
    def metrics(self):
        return as_list(self.cfg.search.metric)

    @cached_property
    def ranked(self):
        return ranked(self.study)

    @cached_property
    def importances(self):
        return importances(self.study)


@section
def heading(facts):
    return {"title": f"Study {facts.study.study_name}", "metric": facts.metrics[0]}


@section
def narrowed_from(facts):
    """The study this one was narrowed from, and which of its trials are warm starts."""
    old = facts.study.user_attrs.get(NARROWED_KEY) or facts.cfg.search.get("narrow_from")
    if not old:
        return {}
    return {"narrowed_from": old,
            "warm_starts": warm_start_rows(facts.study.get_trials(deepcopy=False),
                                           facts.metrics)}


@section
def refit_and_champion(facts):
    mark = links.refit_mark(facts.study)
    if "run_id" not in mark:
        return {}
    return {"refit": refit_rows(mark), "refit_trial": mark["trial"],
            "refit_tested": any(k.startswith("test_") for k in mark),
            "champion": mark.get("model")}


@section
def verdict_and_baselines(facts):
    return {"verdict": facts.verdict_lines}


@section
def data_set(facts):
    return {"data": data_rows(facts.study, facts.cfg)}


@section
def best_trials(facts):
    return {"best": best_rows(facts.ranked, facts.metrics)}


@section
def cost_curves(facts):
    return {"color_by": color_by(facts.cfg.search, facts.dims, facts.importances,
                                 facts.study.get_trials(deepcopy=False))}


@section
def what_mattered(facts):
    return {"importances": facts.importances, "evaluator": EVALUATOR}


@section
def good_region(facts):
    """Where the good trials are, and the narrowed study to run next."""
    try:
        top = narrow.top_trials(facts.ranked, facts.study.directions[0],
                                facts.cfg.search.narrow.top)
    except ConfigError:
        return {}  # fewer than 3 complete trials: nothing to narrow yet
    rows = narrow.span_rows(facts.dims, top)
    return {"spans": rows, "sentences": sentences(rows),
            "top_label": f"{len(top)} of {len(facts.ranked)} complete trials",
            "command": narrowed_command(facts.cfg, facts.base_overrides)}


def report_content(study, cfg, dims, base_overrides, verdict=None):
    """Everything report.html shows, as plain values: the sections' dicts merged."""
    facts = Facts(study, cfg, dims, base_overrides, verdict)
    content = {}
    for fn in SECTIONS:
        content.update(fn(facts))
    return content
