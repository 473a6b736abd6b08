"""report.html of a study: one self-contained page (PNG figures inlined, no network) on
the parent run, beside the cost-curve figures and the importances as metrics.

content.py gathers what the page says, one function per section; the template
(templates/report.html.j2, one block per section) lays it out; this module fetches the
curves from MLflow, draws them, renders the page and logs it all.
"""
import base64
import time
from pathlib import Path

import jinja2

from search import links
from search.report import curves
from search.secrets import mask
from search.tracking.client import client_for

COST_FIGURE = "cost_curves.png"
VALIDATION_FIGURE = "validation_curves.png"
TEMPLATES = jinja2.Environment(loader=jinja2.PackageLoader("search.report", "templates"),
                               autoescape=True, trim_blocks=True, lstrip_blocks=True)
PAGE = "report.html.j2"      # in search/report/templates, shipped as package data


def curve_sets(client, trials, val_metric, color_by):
    """(train_cost CurveSet, val_metric CurveSet) of the finished trials."""
    run_ids = [links.trial_run_id(t) for t in trials
               if t.state.name in ("COMPLETE", "PRUNED")]
    histories = curves.fetch_histories(client, run_ids, ["train_cost", val_metric])
    return (curves.collect(trials, histories, "train_cost", color_by),
            curves.collect(trials, histories, val_metric, color_by))


def _image(path):
    """A PNG file as the template's inline image: its alt text and base64 data."""
    return {"alt": Path(path).stem,
            "data": base64.b64encode(Path(path).read_bytes()).decode("ascii")}


def render(content, figures):
    """The page as a string: content (report_content's sections) and the figure files,
    through the template, autoescaped, with any credential masked."""
    page = TEMPLATES.get_template(PAGE).render(**content, figures=[_image(f) for f in figures])
    return mask(page)


def log_study_report(cfg_tracking, parent_run_id, trials, content, val_metric, folder):
    """Draw the two curve figures, write report.html, log them and the importances on
    the parent run; returns (report location, (cost CurveSet, validation CurveSet))."""
    from mlflow.entities import Metric, Param


    client = client_for(cfg_tracking)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cost, val = curve_sets(client, trials, val_metric, content.get("color_by"))
    figures = [curves.draw(cost, folder / COST_FIGURE, "training cost"),
               curves.draw(val, folder / VALIDATION_FIGURE, val_metric)]
    page = folder / "report.html"
    page.write_text(render(content, figures), encoding="utf-8")
    now = int(time.time() * 1000)
    metrics = [Metric(f"importance.{k}", float(v), now, 0)
               for k, v in (content.get("importances") or {}).items()]
    params = [Param("importance.evaluator", content["evaluator"])] \
        if content.get("importances") and not _has_param(client, parent_run_id) else []
    if metrics or params:
        client.log_batch(parent_run_id, metrics=metrics, params=params)
    for f in figures:
        client.log_artifact(parent_run_id, str(f), "plots")
    client.log_artifact(parent_run_id, str(page))
    location = client.get_run(parent_run_id).info.artifact_uri.rstrip("/") + "/report.html"
    return location, (cost, val)


def _has_param(client, run_id):
    return "importance.evaluator" in client.get_run(run_id).data.params
