"""Which MLflow store a command uses, and how a read-only command looks for one: an explicit
tracking.uri beats MLFLOW_TRACKING_URI, which beats the local default; dnn-reproduce never
creates a store by looking, says where it looked, and leaves the registry alone unless asked."""
import pytest
from helpers import run_cli, run_id_from
from mlflow import MlflowClient

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
