"""Which MLflow store a command uses, and how a read-only command looks for one: an explicit
tracking.uri beats MLFLOW_TRACKING_URI, which beats the local default; dnn-reproduce never
creates a store by looking, says where it looked, and leaves the registry alone unless asked."""
import pytest
from helpers import run_cli, run_id_from
from mlflow import MlflowClient

from search.cli import reproduce
from search.config.compose import compose_checked
from search.tracking.client import tracking_uri

FAST = ["train.num_iterations=20", "tracking.log_model=false"]


@pytest.mark.parametrize("override, env, expected", [
    (["tracking.uri=sqlite:///flag.db"], "sqlite:///env.db", "sqlite:///flag.db"),
    ([], "sqlite:///env.db", "sqlite:///env.db"),
    ([], None, "sqlite:///mlruns/mlflow.db"),
    ([], "", "sqlite:///mlruns/mlflow.db"),
])
def test_the_flag_beats_the_environment_which_beats_the_default(override, env, expected,
                                                                 monkeypatch):
    if env is None:
        monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    else:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", env)
    cfg = compose_checked("config", override)
    assert tracking_uri(cfg.tracking) == expected


@pytest.mark.slow
def test_dnn_train_records_in_the_store_on_the_command_line_not_the_environments(tmp_path):
    flag, env = tmp_path / "flag" / "mlflow.db", tmp_path / "env" / "mlflow.db"
    proc = run_cli("dnn-train", f"tracking.uri=sqlite:///{flag}", *FAST, cwd=tmp_path,
                   env={"MLFLOW_TRACKING_URI": f"sqlite:///{env}"}, check=0)
    run_id = run_id_from(proc.stdout)
    assert f"MLflow run {run_id} in sqlite:///{flag}" in proc.stdout
    run = MlflowClient(f"sqlite:///{flag}").get_run(run_id)
    assert run.data.params["tracking.uri"] == f"sqlite:///{flag}"
    assert not env.parent.exists(), "the environment's store is not touched"


def reproduce_in(folder, args, monkeypatch, capsys):
    """(exit status, stdout, stderr) of dnn-reproduce's main() run in folder."""
    monkeypatch.chdir(folder)
    try:
        code = reproduce.main(args)
    except SystemExit as e:
        code = e.code
    out = capsys.readouterr()
    return code or 0, out.out, out.err


def test_reproduce_from_another_folder_says_where_it_looked_and_creates_nothing(
        reproduce_store, tmp_path, monkeypatch, capsys):
    store, ids = reproduce_store
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code, out, err = reproduce_in(elsewhere, [ids["run"]], monkeypatch, capsys)
    assert code == 2 and out == ""
    [line] = err.splitlines()
    assert line.startswith("error: no MLflow store at sqlite:///mlruns/mlflow.db "
                           f"({elsewhere}/mlruns/mlflow.db)"), line
    assert ids["run"] in line and "tracking.uri=URI or MLFLOW_TRACKING_URI" in line
    assert list(elsewhere.iterdir()) == [], "looking for a run creates no store"
    # pointed at the store, from the same folder: found
    uri = f"tracking.uri=sqlite:///{store}/mlruns/mlflow.db"
    code, out, err = reproduce_in(elsewhere, [ids["run"], uri, "--config-only"], monkeypatch,
                                  capsys)
    assert code == 0 and "num_iterations: 10" in out, err
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}/mlruns/mlflow.db")
    code, out, err = reproduce_in(elsewhere, [ids["run"], "--config-only"], monkeypatch, capsys)
    assert code == 0 and "num_iterations: 10" in out, err
    assert list(elsewhere.iterdir()) == []


def test_reproduce_of_a_run_missing_from_the_store_names_the_store(
        reproduce_store, monkeypatch, capsys):
    store, _ = reproduce_store
    code, _, err = reproduce_in(store, ["0" * 32], monkeypatch, capsys)
    assert code == 2
    [line] = err.splitlines()
    assert f"no MLflow run '{'0' * 32}' at sqlite:///mlruns/mlflow.db " \
           f"({store}/mlruns/mlflow.db)" in line
    assert "tracking.uri=URI or MLFLOW_TRACKING_URI" in line


@pytest.mark.slow
def test_reproduce_leaves_the_registry_alone_unless_asked(tmp_path, monkeypatch, capsys):
    from search.run.train import train_run

    uri = f"sqlite:///{tmp_path}/mlruns/mlflow.db"
    cfg = compose_checked("config", ["train.num_iterations=10", f"tracking.uri={uri}",
                                     f"tracking.artifact_root={tmp_path}/mlruns/artifacts",
                                     "tracking.register=planar-model"])
    run_id = train_run(cfg, progress=False).run_id
    client = MlflowClient(uri)

    def champion():
        return client.get_model_version_by_alias("planar-model", "champion").run_id

    assert champion() == run_id
    code, out, err = reproduce_in(tmp_path, [run_id], monkeypatch, capsys)
    assert code == 0, err
    assert "the reproduction is not registered (add tracking.register=planar-model" in err
    assert champion() == run_id, "the champion stays where it was"
    assert len(client.search_model_versions("name='planar-model'")) == 1
    code, out, err = reproduce_in(tmp_path, [run_id, "tracking.register=planar-model"],
                                  monkeypatch, capsys)
    assert code == 0, err
    new_run = out.split()[2]
    assert champion() == new_run != run_id, "asked for: registered, the champion moves"
