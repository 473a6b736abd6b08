"""dnn-sweep search.narrow_from=STUDY end to end: the new study, its space, warm start."""
import optuna
import pytest
from helpers import run_cli
from hydra import compose, initialize_config_dir
from mlflow import MlflowClient
from optuna.storages.journal import JournalFileBackend, JournalStorage

from search.config import ConfigError, conf_dir
from search.study.narrow_from import heading
from search.study.study import check_sweep_config

FAST = ["~search.space.train.batch_size",
        "train.num_iterations=100", "train.eval_every=20", "search.workers=1",
        "search.space.model.hidden_units.depth_high=2", "search.space.model.hidden_units.units_high=8"]
ENV = {"MLFLOW_TRACKING_URI": ""}


def load(cwd, name):
    storage = JournalStorage(JournalFileBackend(str(cwd / "mlruns" / "optuna.journal")))
    return optuna.load_study(study_name=name, storage=storage)


@pytest.mark.slow
def test_an_unknown_source_is_refused_in_one_line_and_creates_nothing(tmp_path):
    proc = run_cli("dnn-sweep", "search.narrow_from=nosuch", cwd=tmp_path, env=ENV, check=2)
    assert proc.stderr.startswith("error: search.narrow_from 'nosuch': no study of that name")
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "mlruns").exists()


@pytest.mark.slow
def test_narrowing_a_study_warm_starts_the_new_one(tmp_path):
    run_cli("dnn-sweep", *FAST, "search.n_trials=6", cwd=tmp_path, env=ENV, check=0)
    old = load(tmp_path, "planar-sweep")
    old_runs = {t.user_attrs["mlflow_run_id"]: t for t in old.trials}
    proc = run_cli("dnn-sweep", *FAST, "search.narrow_from=planar-sweep", "search.n_trials=2",
                   "search.refit=true", cwd=tmp_path, env=ENV, check=0)
    assert proc.stdout.splitlines()[0] == ("study 'planar-sweep-fine', narrowed from study "
                                           "'planar-sweep': checking the config and the data ...")
    assert "space narrowed from study 'planar-sweep'" in proc.stdout
    new = load(tmp_path, "planar-sweep-fine")
    warm = [t for t in new.trials if "warm_start_from" in t.user_attrs]
    trained = [t for t in new.trials if "warm_start_from" not in t.user_attrs]
    assert len(trained) == 2 and len(warm) >= 3  # the top 3 always fall inside
    for t in warm:  # linked to the original runs, never re-trained
        original = old_runs[t.user_attrs["mlflow_run_id"]]
        assert t.user_attrs["warm_start_from"] == f"planar-sweep#{original.number}"
        assert t.values == original.values and t.params == original.params
    client = MlflowClient(f"sqlite:///{tmp_path}/mlruns/mlflow.db")
    parent = client.get_run(new.user_attrs["mlflow_parent_run_id"])
    assert parent.data.tags["dnnsweep.narrowed_from"] == "planar-sweep"
    space = client.download_artifacts(parent.info.run_id, "space.yaml", str(tmp_path))
    assert "learning_rate" in open(space).read()
    exp = client.get_experiment_by_name("planar-sweep-fine")
    runs = client.search_runs([exp.experiment_id])
    assert len([r for r in runs if r.data.tags.get("mlflow.parentRunId")]) == 3  # 2 + refit
    # its report says what it was narrowed from, which trials are warm starts, the refit
    page = open(client.download_artifacts(parent.info.run_id, "report.html", str(tmp_path))).read()
    assert "Narrowed from study <code>planar-sweep</code>" in page
    assert f"{len(warm)} of its trials are warm starts" in page
    assert all(f"<td>{t.user_attrs['warm_start_from']}</td>" in page for t in warm)
    refit = new.user_attrs["refit"]
    assert f"<td>{refit['run_id']}</td>" in page and f"Trial {refit['trial']} trained" in page
    assert "<code>models:/planar-sweep-fine@champion</code>" in page
    # resuming runs no warm start again; the parent run id of the old study works too
    again = run_cli("dnn-sweep", *FAST, f"search.narrow_from={old.user_attrs['mlflow_parent_run_id']}",
                    "search.study_name=planar-sweep-fine", "search.n_trials=3",
                    cwd=tmp_path, env=ENV, check=0)
    assert not [ln for ln in again.stdout.splitlines() if ln.startswith("warm start:")]
    assert again.stdout.startswith(f"study 'planar-sweep-fine', narrowed from "
                                   f"{old.user_attrs['mlflow_parent_run_id']!r} (a study, or ")
    new = load(tmp_path, "planar-sweep-fine")
    assert len(new.trials) == len(warm) + 3


@pytest.mark.slow
def test_too_few_finished_trials_exit_2_in_one_line(tmp_path):
    run_cli("dnn-sweep", *FAST, "search.n_trials=2", cwd=tmp_path, env=ENV, check=0)
    proc = run_cli("dnn-sweep", *FAST, "search.narrow_from=planar-sweep", cwd=tmp_path,
                   env=ENV, check=2)
    assert proc.stderr.strip().startswith("error: search.narrow_from: study 'planar-sweep' "
                                          "has 2 complete trial(s); narrowing needs at least 3")
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("name, source, given, line", [
    ("planar-sweep", None, False, "study 'planar-sweep'"),
    ("planar-sweep", "planar-sweep", False, "study 'planar-sweep-fine', narrowed from study "
                                            "'planar-sweep'"),
    ("mine", "old", True, "study 'mine', narrowed from study 'old'"),
    ("planar-sweep", "0" * 32, False, "a new study, narrowed from '" + "0" * 32 + "' (a study, "
                                      "or the MLflow parent run of one)"),
])
def test_the_first_line_names_the_new_study_and_the_one_it_is_narrowed_from(name, source,
                                                                              given, line):
    assert heading(name, source, given) == line


@pytest.mark.parametrize("override, key", [
    ("search.narrow.top=0", "search.narrow.top"), ("search.narrow.top=1.5", "search.narrow.top"),
    ("search.narrow.top=abc", "search.narrow.top"), ("search.narrow.margin=-1", "search.narrow.margin"),
    ("search.narrow.margin=inf", "search.narrow.margin"), ("search.narrow_from=''", "search.narrow_from"),
])
def test_bad_narrow_settings_are_refused_naming_the_key(override, key):
    from search.config.compose import compose_checked

    with pytest.raises(ConfigError, match=key):  # a wrong type: at composition
        compose_checked("sweep", [override], check_sweep_config)
