"""No password in the clear under --multirun, with the installed dnn-train as a real process:
Hydra escapes a multirun's overrides (postgresql\\://user\\:pw@...), and prints configs and
failed jobs itself; every place a user or a store sees must hold *** instead."""
import pytest
from faults import cli_env
from helpers import run_cli
from mlflow import MlflowClient
from pg_helpers import fresh_database, server_url

SECRET = "hunter2"


def assert_nowhere(secret, proc, folder):
    """Not on stdout or stderr, not in any file under folder."""
    assert secret not in proc.stdout and secret not in proc.stderr, proc.stdout + proc.stderr
    leaks = [str(p) for p in folder.rglob("*")
             if p.is_file() and secret.encode() in p.read_bytes()]
    assert not leaks, f"password in {leaks}"


@pytest.mark.slow  # four command-line runs
def test_a_multirun_to_an_unreachable_store_shows_no_password(tmp_path):
    """The job lines on stdout, Hydra's multirun.yaml, the error line (with and without
    HYDRA_FULL_ERROR=1) and `--cfg job`; a password holding a `;` is masked whole."""
    uri = f"tracking.uri=postgresql+psycopg2://u:{SECRET}@127.0.0.1:1/x"
    for full in (None, "1"):
        proc = run_cli("dnn-train", "--multirun", uri, "train.learning_rate=0.1,0.2",
                       cwd=tmp_path, env={"MLFLOW_TRACKING_URI": None, "HYDRA_FULL_ERROR": full})
        assert proc.returncode == 2, proc.stderr  # a store that does not answer: at once
        assert "[job 0] tracking.uri=postgresql+psycopg2\\://u\\:***@" in proc.stdout
        assert list(tmp_path.rglob("multirun.yaml")), "Hydra saved the sweep's config"
        assert_nowhere(SECRET, proc, tmp_path)
    for uri in (f"'postgresql://u:a;{SECRET}@127.0.0.1:1/x'",  # quoted: a `;` in the value
                f"'postgresql://u@127.0.0.1:1/x?password=a;{SECRET}'"):
        proc = run_cli("dnn-train", f"tracking.uri={uri}", "--cfg", "job", cwd=tmp_path,
                       env={"MLFLOW_TRACKING_URI": None}, check=0)
        assert "uri: postgresql://u" in proc.stdout and "***" in proc.stdout
        assert_nowhere(SECRET, proc, tmp_path)


@pytest.mark.postgres
@pytest.mark.slow
def test_a_multirun_on_postgresql_stores_and_prints_no_password(tmp_path):
    """A real multirun tracked in a PostgreSQL database whose URL carries a password (the
    server trusts 127.0.0.1, so any password connects): each run's overrides.yaml artifact,
    the job lines and the table on stdout, multirun.yaml."""
    import sqlalchemy

    with fresh_database(server_url(), "secrets") as url:
        store = sqlalchemy.engine.make_url(url).set(password=SECRET).render_as_string(
            hide_password=False)
        proc = run_cli("dnn-train", "--multirun", f"tracking.uri={store}",
                       "train.learning_rate=0.1,0.2", "train.num_iterations=5",
                       "tracking.log_model=false", cwd=tmp_path, env=cli_env(), timeout=600)
        assert proc.returncode == 0, proc.stderr
        assert "2 job(s):" in proc.stdout and proc.stdout.count("\\:***@") >= 4  # lines, table
        assert_nowhere(SECRET, proc, tmp_path)
        client = MlflowClient(url)
        runs = [r for e in client.search_experiments()
                for r in client.search_runs([e.experiment_id])]
        assert len(runs) == 2
        for run in runs:
            folder = tmp_path / run.info.run_id
            folder.mkdir()
            path = client.download_artifacts(run.info.run_id, "overrides.yaml", str(folder))
            text = open(path).read()
            assert "***" in text and SECRET not in text, text
