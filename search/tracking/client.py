"""The MLflow client: the store (its reachability; a local one: sqlite_store.py),
experiments, the UI's addresses, and the runs of a study (closing, tagging, the parent
run). One run's writer: runs.py.

mlflow is imported lazily (importing it costs ~2 s).
"""
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

from search.config import ConfigError
from search.config.tracking import store_uri
from search.secrets import mask
from search.storage.stores import probe_database
from search.storage.urls import backend, parse, sqlite_path
from search.tracking.sqlite_store import check_local_store, open_local_store


def tracking_uri(cfg_tracking):
    """tracking.uri when given, else MLFLOW_TRACKING_URI when set, else the local store."""
    return store_uri(cfg_tracking)


REACHABLE_TIMEOUT = 10.0  # seconds for a tracking server to answer its health check
_answered = set()


def check_reachable(uri):
    """A tracking server that does not answer fails within seconds, in one line naming it,
    instead of after MLflow's minutes of retries; so does a database that refuses it (no such
    database, role or password) or does not answer, and a local store that cannot be one
    (check_local_store)."""
    check_local_store(uri)
    if backend(uri) in ("postgresql", "mysql") and uri not in _answered:
        refused, silent = probe_database(uri)  # else MLflow retries for 100 s, then fails
        if refused:
            raise ConfigError(f"cannot open MLflow tracking store {mask(uri)}: {mask(refused)}")
        if silent:
            raise ConfigError(f"MLflow tracking store {mask(uri)} does not answer "
                              f"({mask(silent)}): start its database server, or set "
                              "tracking.uri / MLFLOW_TRACKING_URI to one that runs")
        _answered.add(uri)
    if not uri.startswith(("http://", "https://")) or uri in _answered:
        return
    parts = urllib.parse.urlsplit(uri)
    host = parts.netloc.rpartition("@")[2]  # no credentials in the probe
    health = urllib.parse.urlunsplit((parts.scheme, host, parts.path.rstrip("/") + "/health",
                                      "", ""))
    try:
        urllib.request.urlopen(health, timeout=REACHABLE_TIMEOUT).close()
    except urllib.error.HTTPError:
        pass  # it answered (behind a proxy, asking for a login): MLflow says the rest
    except (OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or e
        raise ConfigError(f"MLflow tracking server {mask(uri)} does not answer ({reason}): "
                          "start it, or set tracking.uri / MLFLOW_TRACKING_URI to one that "
                          "runs") from None
    _answered.add(uri)


_frozen = False


def freeze_imported_heap():
    """Move the objects of everything imported so far (MLflow, SQLAlchemy, pandas: a large
    heap) out of the garbage collector's sight. Without it, the small allocations of each
    logged step keep triggering collections that rescan that heap: measured, that alone
    made a tracked run ~8% slower than an untracked one."""
    global _frozen
    if not _frozen:
        import gc

        import mlflow  # noqa: F401 - the heap to freeze is the one it brings

        gc.collect()
        gc.freeze()
        _frozen = True


def quiet_libraries():
    """MLflow's INFO lines (a new store's "Creating initial MLflow database tables"),
    alembic's migration steps: our own lines say what happens; their warnings still show.
    MLflow's database layer logs every SQLAlchemy OperationalError (a full disk, a locked
    or unreachable database) with its traceback at ERROR, then raises it: the raised error
    is ours to report, in one line, so that log is silenced."""
    import logging

    import mlflow  # noqa: F401 - it sets its loggers' levels when imported: set ours after

    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)


def absolute(uri):
    """A sqlite URL with its file made absolute (others as they are): MLflow keeps one store
    per URI string in a process, and a relative one would stay on the first folder's file."""
    path = sqlite_path(uri)
    if not path or os.path.isabs(path):
        return uri
    return parse(uri).set(database=os.path.abspath(path)).render_as_string(hide_password=False)


def client_for(cfg_tracking):
    """An MlflowClient on the configured store; creates the local store's folder."""
    # Progress bars for millisecond copies of artifacts only clutter the run's output.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # One "View run at <url>" line per run and trial (tracking servers) would drown the
    # sweep's own progress line and summary.
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    quiet_libraries()
    import mlflow
    from mlflow import MlflowClient

    freeze_imported_heap()
    uri = absolute(tracking_uri(cfg_tracking))
    # Logging a model and registering it go through MLflow's process-wide URI.
    mlflow.set_tracking_uri(uri)
    path = sqlite_path(uri)
    client = _clients.get(uri)
    if client is not None and (not path or os.path.exists(path)):
        return client
    if not path:
        check_reachable(uri)
        client = MlflowClient(tracking_uri=uri)
    else:
        client = open_local_store(MlflowClient, uri)
    _clients[uri] = client
    return client


# One client per store and process: opening a local store (its lock, its schema's check)
# costs ~15 ms, and a sweep's worker opens it several times per trial.
_clients = {}


# MLflow 3's UI opens an experiment on its GenAI overview (traces) unless the experiment
# says it holds model training: then it opens on the runs table.
EXPERIMENT_KIND = "mlflow.experimentKind"
EXPERIMENT_TAGS = {EXPERIMENT_KIND: "custom_model_development"}


def experiment_id(client, name, cfg_tracking):
    """The experiment's id, created on first use (safe when several workers race)."""
    from mlflow.exceptions import MlflowException

    exp = client.get_experiment_by_name(name)
    if exp is not None:
        if EXPERIMENT_KIND not in exp.tags:  # made before dnnsweep set it, or by hand
            client.set_experiment_tag(exp.experiment_id, EXPERIMENT_KIND,
                                      EXPERIMENT_TAGS[EXPERIMENT_KIND])
        return exp.experiment_id
    location = None
    if sqlite_path(tracking_uri(cfg_tracking)) and cfg_tracking.artifact_root:
        location = Path(cfg_tracking.artifact_root).resolve().as_uri()
    try:
        return client.create_experiment(name, artifact_location=location, tags=EXPERIMENT_TAGS)
    except MlflowException:
        return client.get_experiment_by_name(name).experiment_id  # another worker made it


UI_ADDRESS = "http://127.0.0.1:5000"  # where dnn-ui serves by default


def browse_hint(cfg_tracking, run_id):
    """How to see a run's experiment: its runs page on the tracking server, or dnn-ui
    and the page it will serve for a local store."""
    client = client_for(cfg_tracking)
    exp_id = client.get_run(run_id).info.experiment_id
    uri = tracking_uri(cfg_tracking)
    if uri.startswith(("http://", "https://")):
        return runs_url(mask(uri), exp_id)
    return f"dnn-ui, then {runs_url(UI_ADDRESS, exp_id)}"


def runs_url(base_url, experiment_id):
    """The address of an experiment's runs table in the MLflow UI (not its GenAI pages)."""
    return f"{base_url.rstrip('/')}/#/experiments/{experiment_id}/runs?workflowType=machine_learning"


POINT_ELSEWHERE = "point at the store with tracking.uri=URI or MLFLOW_TRACKING_URI"


def open_run(cfg_tracking, run_id):
    """(client, run) of an existing run; raises LookupError for an unknown id. Reads only:
    a local store that does not exist is not created by looking for a run in it."""
    from mlflow.exceptions import MlflowException

    uri = tracking_uri(cfg_tracking)
    path = sqlite_path(uri)
    where = f"{mask(uri)} ({os.path.abspath(path)})" if path else mask(uri)
    if path and not os.path.isfile(path):
        raise LookupError(f"no MLflow store at {where}, looking for run {run_id!r}: run the "
                          f"command in the folder the run was made in, or {POINT_ELSEWHERE}")
    client = client_for(cfg_tracking)
    try:
        return client, client.get_run(run_id)
    except MlflowException:
        raise LookupError(f"no MLflow run {run_id!r} at {where}; if it was recorded in "
                          f"another store, {POINT_ELSEWHERE}") from None


def artifact_location(cfg_tracking, run_id, path):
    """Where the run's artifact at path (a file at the top) is stored, or None when the
    run has none there."""
    client = client_for(cfg_tracking)
    if path not in {a.path for a in client.list_artifacts(run_id)}:
        return None
    return client.get_run(run_id).info.artifact_uri.rstrip("/") + "/" + path


HISTORY_FILE = "history.npz"  # a run's every point when its MLflow histories are thinned


def metric_history(client, run_id, key):
    """[(step, value), ...]: every point of the run's metric (see histories)."""
    return histories(client, run_id, [key])[key]


def histories(client, run_id, keys):
    """{key: [(step, value), ...]}: every point of each metric of the run, from its
    history.npz when it has one (tracking.history_points: MLflow's histories are thinned),
    else from MLflow's metric histories."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = client.download_artifacts(run_id, HISTORY_FILE, tmp)
        except Exception:  # noqa: BLE001 - no such artifact (MLflow's error differs by store)
            path = None
        if path:
            with np.load(path, allow_pickle=False) as f:
                for key in set(keys) & set(f.files):
                    steps, values = f[key]
                    out[key] = [(int(s), float(v)) for s, v in zip(steps, values)]
    for key in keys:
        if key not in out:
            out[key] = sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))
    return out


def set_run_tags(cfg_tracking, run_id, tags):
    from mlflow.entities import RunTag

    client_for(cfg_tracking).log_batch(run_id, tags=[RunTag(k, mask(v)) for k, v in tags.items()])


def close_run(cfg_tracking, run_id, status, error=None, tags=None, closing=()):
    """End a run left RUNNING by a dead or interrupted process (no-op when already ended,
    unless its status is among closing: a FINISHED run whose trial did not complete).
    True when it ended the run."""
    client = client_for(cfg_tracking)
    run = client.get_run(run_id)
    if run.info.status not in ("RUNNING", "SCHEDULED", *closing):
        return False
    set_run_tags(cfg_tracking, run_id, {**(tags or {}), **({"error": error} if error else {})})
    client.set_terminated(run_id, status=status)
    return True


def refresh_parent_run(cfg_tracking, run_id, best, files, status, metrics=None, tags=None):
    """Best value(s) as metrics and best params as tags, plus the given metrics and tags;
    trials CSV and plots as artifacts; then status: FINISHED, KILLED, or None (left
    RUNNING for a launcher still at work)."""
    from mlflow.entities import Metric, RunTag

    client = client_for(cfg_tracking)
    now = int(time.time() * 1000)
    values = {**best.get("values", {}), **(metrics or {})}
    metrics = [Metric(k, float(v), now, 0) for k, v in values.items()]
    tags = [*(RunTag(k, mask(v)) for k, v in (tags or {}).items()),
            *(RunTag(f"best.{k}", mask(v)) for k, v in best.get("params", {}).items())]
    if best.get("run_id"):
        tags.append(RunTag("best.run_id", best["run_id"]))
    if metrics or tags:
        client.log_batch(run_id, metrics=metrics, tags=tags)
    for path, folder in files:
        client.log_artifact(run_id, str(path), folder)
    if status is None:
        return
    if status == "KILLED" and client.get_run(run_id).info.status == "FINISHED":
        status = "FINISHED"  # another machine of the study finished it meanwhile: keep that
    client.set_terminated(run_id, status=status)
