"""report.html of a study: one self-contained page (PNG figures inlined, no network) on
the parent run, beside the cost-curve figures and the importances as metrics.

The study side gathers what the page says (importances, the ranges of the best trials,
the narrowed command, the data summary, the verdict when there is one); this module
fetches the curves from MLflow, draws them, writes the page and logs it all.
"""
import base64
import html
import time
from pathlib import Path

from search import links
from search.report import curves
from search.secrets import mask
from search.tracking.client import client_for

COST_FIGURE = "cost_curves.png"
VALIDATION_FIGURE = "validation_curves.png"


def curve_sets(client, trials, val_metric, color_by):
    """(train_cost CurveSet, val_metric CurveSet) of the finished trials."""
    run_ids = [links.trial_run_id(t) for t in trials
               if t.state.name in ("COMPLETE", "PRUNED")]
    histories = curves.fetch_histories(client, run_ids, ["train_cost", val_metric])
    return (curves.collect(trials, histories, "train_cost", color_by),
            curves.collect(trials, histories, val_metric, color_by))


def _img(path):
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(Path(path).stem)}" src="data:image/png;base64,{data}">'


def _table(header, rows):
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


STYLE = ("body{font-family:sans-serif;max-width:980px;margin:1em auto;color:#222}"
         "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;"
         "padding:2px 8px;text-align:left}img{max-width:100%}code{background:#f3f3f3;"
         "padding:2px 4px;display:inline-block}")


def render(content, figures):
    """The page as a string. content: title, verdict (lines or None), data (rows), best
    (rows), importances ({param: value}), evaluator, spans (rows), sentences, command."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>"
             f"{html.escape(content['title'])}</title><style>{STYLE}</style></head><body>",
             f"<h1>{html.escape(content['title'])}</h1>"]
    if content.get("verdict"):
        parts += ["<h2>Verdict and baselines</h2>"] + \
                 [f"<p>{html.escape(line)}</p>" for line in content["verdict"]]
    if content.get("data"):
        parts += ["<h2>Data</h2>", _table(("", ""), content["data"])]
    if content.get("best"):
        parts += ["<h2>Best trials</h2>", _table(content["best"][0], content["best"][1:])]
    parts.append("<h2>Cost curves</h2>")
    parts += [f"<p>{_img(f)}</p>" for f in figures]
    if content.get("importances"):
        parts += [f"<h2>What mattered</h2><p>Importances of the hyperparameters for "
                  f"{html.escape(content['metric'])} ({html.escape(content['evaluator'])}):</p>",
                  _table(("hyperparameter", "importance"),
                         [(k, f"{v:.3f}") for k, v in content["importances"].items()])]
    if content.get("spans"):
        parts += [f"<h2>Where the good trials are</h2><p>Searched range against the range "
                  f"of the top {html.escape(content['top_label'])}:</p>",
                  _table(("dimension", "searched", "top trials"), content["spans"])]
        parts += [f"<p>{html.escape(s)}</p>" for s in content.get("sentences", [])]
    if content.get("command"):
        parts += ["<h2>Next: a narrowed study</h2><p>Search the region of the good trials, "
                  "started with this study's trials that fall inside it:</p>",
                  f"<p><code>{html.escape(content['command'])}</code></p>"]
    parts.append("</body></html>")
    return mask("\n".join(parts))


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
