"""report.html on a study's parent run: self-contained, with the curves, importances,
the ranges of the good trials and the command of the narrowed study."""
import re

import optuna
import pytest
from helpers import log_curve
from hydra import compose, initialize_config_dir
from mlflow import MlflowClient
from optuna.storages.journal import JournalFileBackend, JournalStorage

from search.config import ConfigError, conf_dir
from search.report.content import report_content
from search.report.page import log_study_report, render
from search.study.study import check_sweep_config


def compose_sweep(tmp_path, *overrides):
    with initialize_config_dir(conf_dir(), version_base="1.3"):
        return compose("sweep", overrides=[f"tracking.uri=sqlite:///{tmp_path}/mlflow.db",
                                           f"tracking.artifact_root={tmp_path}/a", *overrides])


@pytest.mark.slow
def test_the_report_is_self_contained_and_names_the_narrowed_command(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    cfg = compose_sweep(tmp_path, 
                        "~search.space.train.batch_size", "train.num_iterations=100")
    dims = check_sweep_config(cfg)
    client = MlflowClient(cfg.tracking.uri)
    exp = client.create_experiment("planar-sweep", artifact_location=(tmp_path / "a").as_uri())
    parent = client.create_run(exp).info.run_id
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "j.journal")))
    study = optuna.create_study(storage=storage, study_name="planar-sweep",
                                sampler=optuna.samplers.RandomSampler(seed=0))
    from search.study.space import suggest
    for i in range(12):
        t = study.ask()
        values = suggest(t, dims)
        lr = values["train.learning_rate"]
        cost = abs(__import__("math").log10(lr / 0.03))  # best near 0.03
        rid = log_curve(client, exp, [1 / (1 + lr * k) for k in range(20)], [cost] * 2)
        t.set_user_attr("mlflow_run_id", rid)
        study.tell(t, cost)
    content = report_content(study, cfg, dims, ["train.num_iterations=100"])
    first = next(iter(content["importances"]))  # a rate by optimizer: some trials lack it
    assert content["color_by"] == ("train.optimizer" if first.startswith("train.learning_rate.")
                                   else first)
    assert content["command"] == ("dnn-sweep train.num_iterations=100 "
                                  "search.narrow_from=planar-sweep")
    searched = {r[0]: r[1] for r in content["spans"] if r[0].startswith("train.learning_rate.")}
    assert searched and all(span == ("0.0001-0.1" if name.endswith(".adam") else "0.001-1")
                            for name, span in searched.items())  # each optimizer's range
    assert "train.learning_rate." in content["sentences"][0]
    assert "good trials span" in content["sentences"][0]
    location, (cost, val) = log_study_report(cfg.tracking, parent, study.trials, content,
                                             "val_cost", tmp_path / "out")
    assert len(cost.curves) == 12 and len(val.curves) == 12
    assert location.endswith("/report.html")
    names = {a.path for a in client.list_artifacts(parent)} | \
        {a.path for a in client.list_artifacts(parent, "plots")}
    assert {"report.html", "plots/cost_curves.png", "plots/validation_curves.png"} <= names
    page = open(client.download_artifacts(parent, "report.html", str(tmp_path))).read()
    assert page.count("data:image/png;base64,") == 2
    assert not re.search(r"(src|href)=[\"']?(https?:|//)", page)  # nothing fetched
    assert "dnn-sweep train.num_iterations=100 search.narrow_from=planar-sweep" in page
    assert "good trials span" in page
    run = client.get_run(parent)
    assert run.data.params["importance.evaluator"] == "PedAnovaImportanceEvaluator"
    assert set(run.data.metrics) == {f"importance.{k}" for k in content["importances"]}
    for name, importance in content["importances"].items():
        assert run.data.metrics[f"importance.{name}"] == pytest.approx(importance)


@pytest.mark.parametrize("value", ["train.nosuch", "model.hidden_units.units_9", "3"])
def test_a_color_by_that_is_not_searched_is_refused(tmp_path, value):
    cfg = compose_sweep(tmp_path, f"search.report.color_by={value}")
    with pytest.raises(ConfigError, match="search.report.color_by"):
        check_sweep_config(cfg)


def test_color_by_a_layers_dimension_colours_by_its_depth(tmp_path):
    cfg = compose_sweep(tmp_path, "search.report.color_by=model.hidden_units")
    check_sweep_config(cfg)
    from search.report.content import color_by
    assert color_by(cfg.search, check_sweep_config(cfg), {}) == "model.hidden_units.depth"


HOSTILE = '<script>alert("x")</script>'


def test_hostile_names_are_text_on_the_page(tmp_path):
    """A study, parameter or metric name, a data value or a command with markup in it is
    shown as text: the template escapes every value."""
    png = tmp_path / 'fig"><b onclick=alert(1)>.png'
    png.write_bytes(b"\x89PNG\r\n\x1a\n")
    content = {"title": f"Study {HOSTILE}", "metric": HOSTILE, "evaluator": HOSTILE,
               "verdict": [HOSTILE], "data": [("data set", HOSTILE)],
               "best": [("trial", HOSTILE), (0, HOSTILE)], "importances": {HOSTILE: 0.5},
               "spans": [(HOSTILE, "0-1", "0-1")], "sentences": [HOSTILE], "top_label": HOSTILE,
               "command": f"dnn-sweep search.narrow_from='{HOSTILE}'"}
    page = render(content, [png])
    assert "<script" not in page and page.count("<img") == 1
    assert page.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") == 13  # each value; the title twice
    assert 'alt="fig&#34;&gt;&lt;b onclick=alert(1)&gt;"' in page and "<b " not in page


def test_a_hostile_study_name_from_the_store_is_escaped(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    cfg = compose_sweep(tmp_path)
    dims = check_sweep_config(cfg)
    study = optuna.create_study(study_name=HOSTILE)
    study.add_trial(optuna.trial.create_trial(
        value=0.5, params={"train.learning_rate": 0.01},
        distributions={"train.learning_rate": optuna.distributions.FloatDistribution(
            1e-3, 1.0, log=True)}))
    page = render(report_content(study, cfg, dims, []), [])
    assert "<script" not in page
    assert "<h1>Study &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</h1>" in page


def text_of(page):
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_the_narrowed_from_warm_start_and_refit_blocks():
    warm = [("trial", "copied from", "val_cost", "MLflow run"), (0, "coarse#7", "0.2", "r0")]
    page = text_of(render({"title": "Study coarse-fine", "narrowed_from": "coarse",
                           "warm_starts": warm, "refit": [("trial", 4), ("MLflow run", "abc")],
                           "refit_trial": 4, "refit_tested": True,
                           "champion": "models:/coarse-fine@champion"}, []))
    assert "Narrowed from study coarse :" in page
    assert "1 of its trials is a warm start: complete trials of coarse" in page and "0 coarse#7 0.2 r0" in page
    assert "Refit and champion Trial 4 trained again on all training data" in page
    assert "then evaluated once on the test split" in page
    assert "alias champion points to it: models:/coarse-fine@champion" in page
    page = text_of(render({"title": "t", "narrowed_from": "coarse", "warm_starts": warm[:1],
                           "refit": [("trial", 4)], "refit_trial": 4, "refit_tested": False,
                           "champion": None}, []))
    assert "None of its trials is a warm start" in page and "champion" not in page
    assert "the data has no test split" in page
    assert "Narrowed" not in text_of(render({"title": "t"}, []))
