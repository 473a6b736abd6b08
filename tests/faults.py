"""Shared by the reliability tests: dnn-sweep in its own process group, waiting on real
processes and stores, reading a temporary working directory's stores (the local default:
MLflow in sqlite:///mlruns/mlflow.db, Optuna in mlruns/optuna.journal), and the checks
every fault test ends with (nothing left RUNNING, one run per trial, retries)."""
import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import optuna
import pytest
from helpers import command
from mlflow import MlflowClient

REPO = Path(__file__).resolve().parents[1]

S = optuna.trial.TrialState
FINISHED = (S.COMPLETE, S.PRUNED, S.FAIL)
# Trials that differ only in learning rate, optimizer, L2 and activation: the run length is
# exactly train.num_iterations and the network is the default [8, 4].
FIXED_LENGTH = ["~search.space.train.batch_size",
                "~search.space.model.hidden_units", "search/pruner=none",
                "tracking.log_model=false", "train.patience=null", "tracking.history_points=null"]
STUDY = "planar-sweep"
DEADLINE = 600  # generous: 2 cores shared with other test runs


def cli_env(extra=None):
    env = {k: v for k, v in os.environ.items()
           if k not in ("MLFLOW_TRACKING_URI", "HYDRA_FULL_ERROR")}
    return {**env, **(extra or {})}


class Sweep:
    """dnn-sweep in its own process group (as a shell runs it), output to files."""

    def __init__(self, cwd, *args, env=None):
        self.cwd = Path(cwd)
        self.out = open(self.cwd / "sweep.out", "a")
        self.err = open(self.cwd / "sweep.err", "a")
        self.proc = subprocess.Popen([command("dnn-sweep"), *args], cwd=cwd, env=cli_env(env),
                                     stdout=self.out, stderr=self.err, start_new_session=True)

    @property
    def pid(self):
        return self.proc.pid

    def wait(self, timeout=DEADLINE):
        return self.proc.wait(timeout=timeout)

    def output(self):
        self.out.flush(), self.err.flush()
        return (self.cwd / "sweep.out").read_text(), (self.cwd / "sweep.err").read_text()

    def kill(self):
        """Whatever is left of the sweep and its workers (finally blocks)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        self.out.close(), self.err.close()


def wait_for(predicate, timeout, what, every=0.5):
    """predicate()'s first truthy value within timeout seconds (exceptions count as no)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            value = predicate()
        except Exception:  # noqa: BLE001 - a store being written: look again
            value = None
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def journal(cwd):
    return Path(cwd) / "mlruns" / "optuna.journal"


def load_trials(cwd, study=STUDY):
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    if not journal(cwd).exists():
        return []
    storage = JournalStorage(JournalFileBackend(str(journal(cwd))))
    return optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)


def client_of(cwd):
    return MlflowClient(f"sqlite:///{Path(cwd).resolve()}/mlruns/mlflow.db")


def all_runs(client):
    return [r for e in client.search_experiments()
            for r in client.search_runs([e.experiment_id], max_results=5000)]


def split_runs(client):
    runs = all_runs(client)
    parents = [r for r in runs if r.data.tags.get("dnnsweep.role") == "study"]
    children = [r for r in runs if r.data.tags.get("dnnsweep.role") != "study"]
    return parents, children


def counted(trials):
    """Finished trials that count toward n_trials (a retried trial is replaced by its retry)."""
    replaced = {t.user_attrs.get("retry_of") for t in trials} - {None}
    return [t for t in trials if t.state in FINISHED and t.number not in replaced]


def pid_of(owner):
    return int(owner.rpartition(":")[2])


def process_state(pid):
    """(state letter, kernel wait channel) of pid, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rpartition(")")[2].split()[0]
        with open(f"/proc/{pid}/wchan") as f:
            return state, f.read()
    except OSError:
        return None


def _socket_ports(pid):
    """The local TCP ports of pid's sockets (/proc/PID/fd and /proc/net/tcp{,6})."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
            if link.startswith("socket:["):
                inodes.add(link[len("socket:["):-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if len(fields) > 9 and fields[9] in inodes:
                    ports.add(int(fields[1].rpartition(":")[2], 16))
    return ports


def locks_held(pid, pg_url=None, sqlite_file=None):
    """What the (stopped) process pid holds that another process's write would wait on for
    as long as pid stays stopped: its PostgreSQL sessions of pg_url's database inside a
    transaction (row locks: a write of the same trial waits), its fcntl locks on the SQLite
    file (/proc/locks: a writer waits, then gives up with "database is locked")."""
    held = []
    if pg_url:
        import sqlalchemy
        from pg_helpers import _connect

        u = sqlalchemy.engine.make_url(pg_url)
        ports = sorted(_socket_ports(pid))
        conn = _connect(pg_url)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT state, left(query, 80) FROM pg_stat_activity WHERE "
                            "datname = %s AND client_port = ANY(%s) AND xact_start IS NOT NULL",
                            (u.database, ports))
                held += [f"PostgreSQL session {state}: {query}" for state, query in cur]
        finally:
            conn.close()
    if sqlite_file and os.path.exists(sqlite_file):
        inode = os.stat(sqlite_file).st_ino
        with open("/proc/locks") as f:
            for line in f:
                fields = line.replace("->", "").split()
                if len(fields) >= 6 and fields[4] == str(pid) \
                        and fields[5].rpartition(":")[2] == str(inode):
                    held.append(f"SQLite {fields[3]} lock on {sqlite_file}")
    return held


def all_threads_stopped(pid):
    """Every thread of pid is stopped (state T), or pid is gone."""
    states = []
    with contextlib.suppress(OSError):
        for tid in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{tid}/stat") as f:
                states.append(f.read().rpartition(")")[2].split()[0])
    return all(state == "T" for state in states)


def stop_between_writes(pid, held, tries=100):
    """SIGSTOP pid at a moment it holds no lock that another process's write would wait on
    (held(pid) lists them, see locks_held): stopped while it writes, a process blocks every
    other writer of the same rows or file for as long as it stays stopped, and what a test of
    the others' work then measures is that wait. While held(pid) names a lock, pid is resumed
    and stopped again a moment later. Returns the locks met on the way (for the test's
    output)."""
    met = []
    for _ in range(tries):
        os.kill(pid, signal.SIGSTOP)
        end = time.monotonic() + 10
        while not all_threads_stopped(pid) and time.monotonic() < end:
            time.sleep(0.01)  # the stop reaches each thread asynchronously
        now = held(pid)
        if not now:
            return met
        met += now
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.05)
    raise AssertionError(f"{pid} held a store's lock at each of {tries} stops: {met[-5:]}")


def ended(pid):
    """The process has exited: gone, or a zombie its new parent has not reaped yet (an
    orphan's exit status is collected by init, whenever init gets to it)."""
    state = process_state(pid)
    return state is None or state[0] in ("Z", "X")


def assert_nothing_left_running(cwd, study=STUDY):
    trials = load_trials(cwd, study)
    assert not [t.number for t in trials if t.state == S.RUNNING], "trials left RUNNING"
    running = [r.info.run_id for r in all_runs(client_of(cwd)) if r.info.status == "RUNNING"]
    assert not running, f"MLflow runs left RUNNING: {running}"


def assert_one_run_per_trial(cwd, trials):
    parents, children = split_runs(client_of(cwd))
    assert len(parents) == 1, "the study must have exactly one parent run"
    ids = [t.user_attrs.get("mlflow_run_id") for t in trials if t.state != S.WAITING]
    assert None not in ids and len(set(ids)) == len(ids), "every trial has its own run"
    assert sorted(ids) == sorted(r.info.run_id for r in children)
    assert all(r.data.tags["mlflow.parentRunId"] == parents[0].info.run_id for r in children)
    return parents[0], children


def assert_retries_repeat_their_trial(trials):
    by_number = {t.number: t for t in trials}
    retries = [t for t in trials if "retry_of" in t.user_attrs]
    for r in retries:
        original = by_number[r.user_attrs["retry_of"]]
        assert original.state == S.FAIL and r.params == original.params
        assert "retry_of" not in original.user_attrs, "a trial is retried once only"
    assert len({r.user_attrs["retry_of"] for r in retries}) == len(retries)
    return retries


@contextlib.contextmanager
def small_disk(folder, size="64k"):
    """A tmpfs of size mounted on the new folder (root only, else the test is skipped),
    unmounted afterwards."""
    folder = Path(folder)
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                              str(folder)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def fill(folder, leave=0):
    """Fill the file system of folder, then free `leave` bytes; returns the filler."""
    filler = Path(folder) / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while f.write(b"\0" * 4096):
                pass
        except OSError:
            pass
    os.truncate(filler, max(0, os.path.getsize(filler) - leave))
    return filler
