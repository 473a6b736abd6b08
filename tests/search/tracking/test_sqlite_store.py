"""search/tracking/sqlite_store.py: the local SQLite store, made whole once."""
import threading

from mlflow import MlflowClient

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
