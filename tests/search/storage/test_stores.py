"""search.storage: URLs, opening a storage, locks, owners, the retry policy's notes."""
import logging
import os
import socket
import subprocess
import sys

import optuna
import pytest

from search.config import ConfigError
from search.storage import urls
from search.storage.owners import dead_local_owner, owner_id
from search.storage.retry import Retry
from search.storage.stores import make_storage


@pytest.mark.parametrize("url, backend, rdb", [
    (None, None, False),
    ("mlruns/optuna.journal", None, False),
    ("/tmp/a:b/study.journal", None, False),
    ("sqlite:///mlruns/o.db", "sqlite", True),
    ("postgresql+psycopg2://u:p@h:5432/db?password=x", "postgresql", True),
    ("postgresql://h/db", "postgresql", True),
    ("mysql+pymysql://u@h/db", "mysql", True),
    ("redis://h:6379", "redis", False),
])
def test_urls_are_read_with_sqlalchemys_parser(url, backend, rdb):
    assert urls.backend(url) == backend and urls.is_rdb(url) == rdb


def test_sqlite_paths_and_query_parameters():
    assert urls.sqlite_path("sqlite:///mlruns/o.db") == "mlruns/o.db"
    assert urls.sqlite_path("sqlite:////abs/o.db?timeout=5") == "/abs/o.db"
    assert urls.sqlite_path("sqlite://") is None and urls.sqlite_path("sqlite:///:memory:") is None
    assert urls.query("postgresql://h/db?connect_timeout=3&sslmode=require") == {
        "connect_timeout": "3", "sslmode": "require"}


def test_the_connect_timeout_given_in_the_url_wins():
    from search.storage.urls import engine_kwargs

    given = engine_kwargs("postgresql+psycopg2://h/db?connect_timeout=3")["connect_args"]
    assert "connect_timeout" not in given and given["keepalives"] == 1
    assert engine_kwargs("postgresql://h/db")["connect_args"]["connect_timeout"] == 10
    assert "connect_args" not in engine_kwargs("sqlite:///x.db")


def test_a_journal_study_never_loads_the_rdb_storage(tmp_path):
    code = ("import sys, optuna; from search.storage.stores import make_storage; "
            f"s = make_storage({str(tmp_path / 'j.journal')!r}, None, None); "
            "optuna.create_study(storage=s).optimize(lambda t: t.suggest_float('x', 0, 1), 2); "
            "print('search.storage.rdb' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ}, check=True).stdout
    assert out.strip() == "False"


def test_an_sqlite_url_opens_the_retrying_storage(tmp_path):
    from search.storage.rdb import RetryingRDBStorage

    storage = make_storage(f"sqlite:///{tmp_path}/o.db", 1, 3)
    assert type(storage) is RetryingRDBStorage and storage.heartbeats_trustworthy()
    study = optuna.create_study(storage=storage, study_name="s")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    assert len(study.trials) == 3


def test_an_unknown_scheme_is_refused_in_one_line_naming_it_masked():
    with pytest.raises(ConfigError, match=r"redis://u:\*\*\*@h") as e:
        make_storage("redis://u:hunter2@h/0", None, None)
    assert "hunter2" not in str(e.value)


def test_owners_name_this_host_and_pid_and_dead_ones_are_told_apart():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    host = socket.gethostname()
    assert owner_id() == f"{host}:{os.getpid()}"
    assert dead_local_owner(f"{host}:{gone.pid}")
    assert not dead_local_owner(owner_id())            # this process
    assert not dead_local_owner(f"{host}:1")            # alive (init)
    assert not dead_local_owner(f"other-host:{gone.pid}")  # another machine: its heartbeat says
    assert not dead_local_owner(None)


def test_the_retry_policy_notes_waiting_and_recovery_on_the_logger_not_stdout(caplog, capsys):
    import sqlalchemy.exc

    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("server closed "
                                                  "the connection unexpectedly"))
        return "ok"

    with caplog.at_level(logging.INFO, logger="dnnsweep"):
        assert Retry(budget=30, first_delay=0.01)(flaky) == "ok"
    notes = [r.getMessage() for r in caplog.records if r.name.startswith("dnnsweep")]
    assert len(notes) == 2 and "unreachable" in notes[0] and "reachable again" in notes[1]
    assert capsys.readouterr() == ("", "")


def test_the_retrying_storage_keeps_optunas_heartbeat_protocol(tmp_path):
    """Optuna's fail_stale_trials fails a trial whose heartbeat stopped, through the
    retrying storage, and calls the stale-trial callback with it (once)."""
    import pickle
    import time

    from search.storage.rdb import open_rdb

    failed = []
    storage = open_rdb(f"sqlite:///{tmp_path}/o.db", 1, 1, 10,
                       on_stale_trial=lambda study, trial: failed.append(trial.number))
    study = optuna.create_study(storage=storage, study_name="s")
    stopped, alive = study.ask(), study.ask()
    study_id = storage.get_study_id_from_name("s")
    ids = [storage.get_trial_id_from_study_id_trial_number(study_id, t.number)
           for t in (stopped, alive)]
    storage.record_heartbeat(ids[0])
    time.sleep(2.5)  # the first trial's heartbeat is now past the grace period
    storage.record_heartbeat(ids[1])
    optuna.storages.fail_stale_trials(study)
    assert failed == [stopped.number]
    assert [t.state.name for t in study.trials] == ["FAIL", "RUNNING"]
    storage.close()
    # a copy for another process works on the same study, with the same retry budget
    again = pickle.loads(pickle.dumps(open_rdb(f"sqlite:///{tmp_path}/o.db", 1, 1, 10)))
    assert again.get_trial(ids[1]).state.name == "RUNNING" and again.retry.budget == 10
    again.close()
