"""Stores under faults, with real processes: a new MLflow store created by another client at
the same moment is waited for; a torn last journal record is dropped, a copy kept, and the
study goes on.
"""
import subprocess

import pytest
from faults import (
    DEADLINE,
    FIXED_LENGTH,
    REPO,
    assert_nothing_left_running,
    cli_env,
    counted,
    fill,
    journal,
    load_trials,
    small_disk,
)
from helpers import client_of, run_cli

# ----------------------------------------------------------------- a new MLflow store raced

# Each process imports what it needs, says it is ready (a file in `ready`), and opens the
# store as soon as all are: together, within a millisecond, however long the imports took.
RACE = """import os, sys, time
mode, uri, ready, n = sys.argv[1:5]
if mode == "ours":
    from omegaconf import OmegaConf
    from search.tracking.client import client_for
    import mlflow
else:
    from mlflow import MlflowClient
open(os.path.join(ready, str(os.getpid())), "w").close()
give_up = time.monotonic() + 300
while len(os.listdir(ready)) < int(n):
    if time.monotonic() > give_up:
        sys.exit("the other processes never got ready")
    time.sleep(0.001)
if mode == "ours":
    client_for(OmegaConf.create({"uri": uri})).search_experiments()
else:
    MlflowClient(uri).search_experiments()
"""


@pytest.mark.slow
def test_a_new_mlflow_store_created_by_another_client_at_once_is_waited_for(tmp_path):
    """Another MLflow client creating a brand-new SQLite store while the sweep does: the
    sweep's side must not die of 'table ... already exists' (3 rounds, 2 of ours, 1 other)."""
    import sys

    for round_ in range(3):
        uri = f"sqlite:///{tmp_path}/r{round_}/mlflow.db"
        (tmp_path / f"r{round_}").mkdir()
        ready = tmp_path / f"ready{round_}"
        ready.mkdir()
        modes = ["ours", "other", "ours"]
        procs = {f"{m}-{i}": subprocess.Popen([sys.executable, "-c", RACE, m, uri, ready,
                                              str(len(modes))],
                                             stderr=subprocess.PIPE, text=True,
                                             env=cli_env({"PYTHONPATH": str(REPO)}))
                 for i, m in enumerate(modes)}
        errors = {k: p.communicate(timeout=DEADLINE)[1] for k, p in procs.items()}
        failed = {k: e[-400:] for k, e in errors.items() if procs[k].returncode != 0}
        assert not [k for k in failed if k.startswith("ours")], failed
        assert not list((tmp_path / f"r{round_}").glob("mlflow.db.new-*"))


# ------------------------------------------------------------------------ torn journal

@pytest.mark.slow
def test_a_torn_journal_record_is_dropped_with_a_copy_kept_and_the_study_goes_on(tmp_path):
    args = ["search.workers=1", *FIXED_LENGTH, "train.num_iterations=30"]
    run_cli("dnn-sweep", "search.n_trials=2", *args, cwd=tmp_path, check=0)
    path = journal(tmp_path)
    whole = path.read_bytes()
    last = whole[:-1].rfind(b"\n") + 1
    path.write_bytes(whole[:last + (len(whole) - last) // 2])  # the last record cut in half
    torn = path.read_bytes()
    proc = run_cli("dnn-sweep", "search.n_trials=4", *args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if "incomplete last record" in line]
    assert len(notes) == 1, proc.stderr
    copies = list(path.parent.glob("optuna.journal.torn-*"))
    assert len(copies) == 1 and copies[0].read_bytes() == torn and str(copies[0].name) in notes[0]
    assert len(counted(load_trials(tmp_path))) == 4
    assert_nothing_left_running(tmp_path)


# ---------------------------------------------------------- a store path naming another file

@pytest.mark.slow  # command-line runs
def test_a_store_path_naming_mlflows_database_or_a_text_file_leaves_it_byte_identical(tmp_path):
    """search.storage naming MLflow's own database (a real one) or a user's text file: one
    error line, exit 2, and the file as it was (the torn-record recovery once cut 4,095 bytes
    off mlflow.db and the last line off the text)."""
    client_of(tmp_path).search_experiments()  # MLflow's store at mlruns/mlflow.db
    notes = tmp_path / "notes.txt"
    notes.write_text("first line\nlast line without a newline")
    for path in ("mlruns/mlflow.db", "notes.txt"):
        before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
        proc = run_cli("dnn-sweep", f"search.storage={path}", "search.n_trials=1",
                       "train.num_iterations=5", cwd=tmp_path)
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert proc.returncode == 2 and len(errors) == 1, proc.stderr
        assert path in errors[0] and "not an Optuna journal" in errors[0]
        assert "Traceback" not in proc.stderr and "incomplete last record" not in proc.stderr
        after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
        assert after == before, "every file byte-identical, none added"


# ------------------------------------------------------------ stores that cannot be opened

@pytest.mark.slow  # command-line runs
@pytest.mark.parametrize("what", ["folder", "journal"])
def test_a_tracking_store_that_cannot_be_a_sqlite_database_is_named_at_once(tmp_path, what):
    """A folder (MLflow waited on it for minutes), or a file that is not a SQLite database,
    as the sqlite path of tracking.uri: one line naming it, exit 2, the file as it was."""
    target = tmp_path / what
    if what == "folder":
        target.mkdir()
    else:
        target.write_bytes(b'{"op_code":0,"worker_id":"w"}\n')
    before = sorted(p.name for p in tmp_path.iterdir())
    proc = run_cli("dnn-sweep", f"tracking.uri=sqlite:///{target}", "search.n_trials=1",
                   "train.num_iterations=5", cwd=tmp_path, timeout=300)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode == 2 and len(errors) == 1, proc.stderr
    assert str(target) in errors[0] and ("is a folder" if what == "folder"
                                         else "is not a SQLite database") in errors[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "nothing created"
    if what == "journal":
        assert target.read_bytes() == b'{"op_code":0,"worker_id":"w"}\n'


@pytest.mark.postgres
@pytest.mark.slow
def test_a_missing_postgresql_database_is_named_at_once(tmp_path):
    """No such database, as the study storage or the MLflow store: the server's answer in
    one line, exit 2, without waiting out a retry budget (here an hour: it took 47 s with
    the default one, and MLflow's own retries 108 s then exit 1)."""
    from pg_helpers import server_url, with_database

    missing = with_database(server_url(), "dnnsweep_no_such_database")
    for key, command in (("search.storage", "dnn-sweep"), ("tracking.uri", "dnn-train")):
        proc = run_cli(command, f"{key}={missing}", "train.num_iterations=5", cwd=tmp_path,
                       env={"DNNSWEEP_DB_RETRY_SECONDS": "3600", "MLFLOW_TRACKING_URI": None},
                       timeout=300)
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert proc.returncode == 2 and len(errors) == 1, proc.stderr
        assert "dnnsweep_no_such_database" in errors[0] and "does not exist" in errors[0]
        assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------ only the artifacts full

@pytest.mark.slow
def test_a_full_artifact_store_alone_ends_the_sweep_with_the_no_space_line(tmp_path):
    """The MLflow artifact root on a full 64 KiB tmpfs, the journal and the database on a
    disk with room: the documented no-space line names the artifact store's file system
    (it named the journal's, or the launcher died of ProcessLookupError), exit 1."""
    artifacts = tmp_path / "artifacts"
    with small_disk(artifacts):
        fill(artifacts)
        proc = run_cli("dnn-sweep", "search.workers=2", "search.n_trials=4", *FIXED_LENGTH,
                       "train.num_iterations=50", f"tracking.artifact_root={artifacts}",
                       cwd=tmp_path, timeout=DEADLINE)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode == 1 and len(errors) == 1, proc.stderr
    assert errors[0].startswith(f"error: no space left on tmpfs (mounted on {artifacts}), "
                                f"which holds {artifacts}"), errors[0]
    assert "Traceback" not in proc.stderr and "ProcessLookupError" not in proc.stderr
