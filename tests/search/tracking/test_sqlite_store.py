"""search/tracking/sqlite_store.py: the local SQLite store, made whole once."""
import contextlib
import sqlite3
import threading

from mlflow import MlflowClient

from search.adapters.mlflow import schema_head
from search.storage.urls import sqlite_path
from search.tracking.sqlite_store import open_local_store


def test_only_sqlite_uris_name_a_local_store():
    assert sqlite_path("sqlite:///mlruns/mlflow.db") == "mlruns/mlflow.db"
    assert sqlite_path("sqlite:////tmp/x.db") == "/tmp/x.db"
    assert sqlite_path("http://127.0.0.1:5000") is None
    assert sqlite_path("postgresql+psycopg2://u@h/db") is None


def test_two_openers_of_a_new_store_make_it_once_and_leave_no_scratch_file(tmp_path):
    uri = f"sqlite:///{tmp_path}/new/mlflow.db"
    clients, errors = [], []

    def open_it():
        try:
            clients.append(open_local_store(MlflowClient, uri))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(clients) == 2
    assert [e.name for e in clients[0].search_experiments()] == ["Default"]
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["mlflow.db", "mlflow.db.lock"]


def test_new_stores_are_copies_of_one_migrated_store_each_with_its_own_default(
        tmp_path, monkeypatch):
    """MLflow's migrations run once per schema revision (into the user's cache); each new
    store is a copy whose Default experiment lies in its own folder, as MLflow makes it."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        client = open_local_store(MlflowClient, f"sqlite:///{tmp_path}/{name}/mlruns/mlflow.db")
        [default] = client.search_experiments()
        assert default.artifact_location == str(tmp_path / name / "mlruns" / "0")
        run = client.create_run(client.create_experiment("e"))
        client.log_metric(run.info.run_id, "m", 1.0)
    [template] = (tmp_path / "cache" / "dnnsweep").glob("*.db")
    assert template.name == f"mlflow-store-{schema_head()}.db"
    with contextlib.closing(sqlite3.connect(template)) as db:
        assert db.execute("SELECT count(*) FROM experiments").fetchone() == (0,)
        assert db.execute("SELECT version_num FROM alembic_version").fetchone() == (
            schema_head(),)
