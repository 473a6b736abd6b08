"""One MLflow run as dnnsweep writes it: MLflow's source and user tags, the environment,
params, buffered metrics, the data set, artifacts, the logged model, the final status."""
import functools
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import dnn
from search import links
from search.secrets import mask, mask_item
from search.tracking import model
from search.tracking.client import HISTORY_FILE, client_for, experiment_id, tracking_uri

MAX_PARAMS_PER_CALL = 100  # MLflow's limits of one log_batch call
MAX_TAGS_PER_CALL = 100
MAX_METRICS_PER_CALL = 1000
MAX_ITEMS_PER_CALL = 1000
PARAM_VALUE_LIMIT = 6000
_experiment_ids = {}  # (store, name) -> id, in this process


def source_tags():
    """MLflow's own "Source" and "User" of a run: the command that made it, the user."""
    import getpass

    from mlflow.entities import SourceType
    from mlflow.utils.mlflow_tags import MLFLOW_SOURCE_NAME, MLFLOW_SOURCE_TYPE, MLFLOW_USER

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        user = str(os.getuid())
    return {MLFLOW_SOURCE_NAME: Path(sys.argv[0]).name or "python",
            MLFLOW_SOURCE_TYPE: SourceType.to_string(SourceType.LOCAL), MLFLOW_USER: user}


def environment_tags():
    """Source and user, package version, git commit of the working tree, NumPy and its BLAS
    (library and threads). The commit and the BLAS libraries are looked up once per
    process (a subprocess and a scan of the loaded libraries: milliseconds per run); the
    threads are read live (dnn-reproduce limits them around one run)."""

    tags = {**source_tags(), "dnnsweep.version": dnn.__version__,
            "numpy.version": np.__version__}
    blas = [i for i in _blas_libraries().info() if i.get("user_api") == "blas"]
    if blas:
        tags["numpy.blas"] = ", ".join(f"{i['internal_api']} {i.get('version')}" for i in blas)
        # OpenBLAS's sums can differ in their last bits with the number of threads:
        # dnn-reproduce re-trains with as many as NumPy's own BLAS had (SciPy may load
        # another, which a sweep's worker, loading it after its limit, leaves unlimited).
        own = [i for i in blas  # in numpy.libs/ (Linux, Windows) or numpy/.dylibs/ (macOS)
               if any(p.startswith("numpy") for p in Path(i["filepath"]).parent.parts[-2:])]
        tags["numpy.blas_threads"] = str(min(i["num_threads"] for i in own or blas))
    commit = _git_commit()
    if commit:
        tags["mlflow.source.git.commit"] = commit
    return tags


def dataset_entity(ds):
    """The stored form (mlflow.entities.Dataset) of an mlflow.data dataset, from its public
    to_dict() (name, digest, source, source_type, and schema and profile when it has them)."""
    from mlflow.entities import Dataset

    d = ds.to_dict()
    return Dataset(name=d["name"], digest=d["digest"], source_type=d["source_type"],
                   source=d["source"], schema=d.get("schema"), profile=d.get("profile"))


@functools.cache
def _blas_libraries():
    """The thread pools loaded in this process (NumPy's BLAS from its import on); their
    info() reads the current thread counts."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@functools.cache
def _git_commit():
    """The commit of the working tree this process runs in, or None outside a repository."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return commit.stdout.strip() if commit.returncode == 0 else None


class Tracker:
    """One MLflow run: created by start(), closed by end() with a terminal status.

    Params, tags and metric points wait in the tracker and go out together in as few
    log_batch requests as MLflow's limits allow: when the buffer is full, every
    tracking.flush_seconds (live curves), and at the end. A tiny run sends one. Each point
    keeps the timestamp it was taken at, so a batch sent again (the client's retry after a
    lost answer) stores no point twice: the store keeps one row per (key, step, timestamp,
    value)."""

    def __init__(self, cfg_tracking, experiment=None):
        self.cfg = cfg_tracking
        self.client = client_for(cfg_tracking)
        self.experiment = experiment or cfg_tracking.experiment
        self.run_id = self.experiment_id = None
        self._buffer = []
        self._params, self._tags = {}, {}  # sent with the next batch
        self._flush_seconds = float(cfg_tracking.flush_seconds)  # read once: metric() is hot
        self._last_flush = time.monotonic()
        self._last_step, self._final = 0, {}  # the last step and its metrics
        self._points = getattr(cfg_tracking, "history_points", None)  # null: every point
        self._stride, self._next, self._held = 1, {}, {}  # thinning: see plan_steps()
        self._curves, self._curves_saved = {}, False  # every point: history.npz

    def start(self, run_name=None, tags=None, parent_run_id=None):
        from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

        all_tags = {**environment_tags(), **(tags or {})}
        if parent_run_id:
            all_tags[MLFLOW_PARENT_RUN_ID] = parent_run_id
        exp_id = self.experiment_id = self._experiment_id()
        run = self.client.create_run(exp_id, run_name=run_name,
                                     tags={k: mask(v) for k, v in all_tags.items()})
        self.run_id = run.info.run_id
        return self.run_id

    def _experiment_id(self):
        """The experiment's id, looked up once per process and store (a request each)."""
        key = (tracking_uri(self.cfg), self.experiment)
        if key not in _experiment_ids:
            _experiment_ids[key] = experiment_id(self.client, self.experiment, self.cfg)
        return _experiment_ids[key]

    def log_params(self, params):
        """Params go out with the run's next batch (MLflow keeps a param's first value)."""
        for k, v in params.items():
            self._params[k] = mask_item(k, v)[:PARAM_VALUE_LIMIT]

    def set_tags(self, tags):
        """Tags go out with the run's next batch (at the latest when it ends)."""
        self._tags.update({k: mask(v) for k, v in tags.items()})

    def plan_steps(self, n_steps):
        """A run of at most n_steps steps: with tracking.history_points set, MLflow's history
        of each metric keeps a point every n_steps / history_points steps and its latest
        point at each flush; every point goes into the run's history.npz."""
        if self._points:
            self._stride = max(1, math.ceil(n_steps / self._points))

    def metric(self, key, value, step):
        """Buffer one point; flushed by size, by time (live curves), and at the end."""
        point = (key, float(value), int(time.time() * 1000), int(step))
        if self._points:
            self._curves.setdefault(key, []).append((point[3], point[1]))
            if point[3] < self._next.get(key, 0):
                self._held[key] = point  # sent at the next flush if still the latest
                return
            self._next[key] = point[3] + self._stride
            self._held.pop(key, None)
        self._buffer.append(point)
        if (len(self._buffer) >= MAX_METRICS_PER_CALL
                or time.monotonic() - self._last_flush >= self._flush_seconds):
            self.flush()

    def save_history(self, folder):
        """history.npz in folder: for each metric an array (2, n) of its steps and values,
        every point of the run (with tracking.history_points set; else nothing: MLflow's
        history is whole). Returns its path, or None."""
        if not self._curves:
            return None
        path = Path(folder) / HISTORY_FILE
        np.savez_compressed(path, **{k: np.array(c, dtype=np.float64).T
                                     for k, c in self._curves.items()})
        self._curves_saved = True
        return path

    def flush(self):
        """Send what waits (params, tags, points) in as few log_batch calls as MLflow takes."""
        from mlflow.entities import Metric, Param, RunTag

        self._buffer.extend(self._held.values())  # each metric's latest point
        self._held.clear()
        self._note_final()
        params = [Param(k, v) for k, v in self._params.items()]
        tags = [RunTag(k, v) for k, v in self._tags.items()]
        points = [Metric(k, v, ts, s) for k, v, ts, s in self._buffer]
        for batch in batches(params, tags, points):
            self.client.log_batch(self.run_id, **batch)
        self._params.clear()
        self._tags.clear()
        self._buffer.clear()
        self._last_flush = time.monotonic()

    def _note_final(self):
        """The values at the last step so far (linked to the logged model)."""
        for k, v, ts, s in self._buffer:
            if s >= self._last_step:
                if s > self._last_step:
                    self._last_step, self._final = s, {}
                self._final[k] = (v, ts, s)

    def log_dataset(self, name, X, Y, context):
        """The data set as an input of the run (its digest: hashed once per process for
        the same arrays: a sweep's worker keeps its data)."""
        from mlflow.exceptions import MlflowException

        digest, inputs = _dataset_inputs(name, X, Y, context)
        try:
            self.client.log_inputs(self.run_id, inputs)
        except MlflowException:
            # Workers logging the same new data set at once race on its unique row
            # (IntegrityError on datasets); the loser finds it stored on a second try.
            time.sleep(0.2)
            self.client.log_inputs(self.run_id, inputs)
        return digest

    def log_artifacts(self, folder):
        """Every file of folder as an artifact of the run."""
        self.client.log_artifacts(self.run_id, str(folder))

    def log_model(self, parameters_npz, preprocess_npz, activation):
        """The run's network and its preprocessing as an MLflow logged model
        (search/tracking/model.py), linked to the run and its final metrics; registered
        when tracking.register names a model."""
        self.flush()  # the run's final metrics stored first, then linked to the model
        model_id = model.log_network(self.client, self.experiment_id, self.run_id,
                                     parameters_npz, preprocess_npz, activation, self._final)
        name = getattr(self.cfg, "register", None)
        if name:
            uri, version = model.register(self.client, model_id, self.run_id, name)
            self.set_tags({"registered_model": f"{name}/{version}"})
            return uri
        return f"models:/{model_id}"

    def end(self, status="FINISHED", error=None, tags=None):
        """Flush and close the run; FAILED/KILLED runs keep their reason as a tag."""
        try:
            self.set_tags({**(tags or {}), **({"error": str(error)[:5000]} if error else {})})
            if self._buffer or self._held or self._params or self._tags:
                self.flush()
            if self._curves and not self._curves_saved:  # stopped before its artifacts
                with tempfile.TemporaryDirectory() as tmp:
                    self.client.log_artifact(self.run_id, str(self.save_history(tmp)))
        finally:
            self.client.set_terminated(self.run_id, status=status)


_datasets = {}  # (name, context) -> (X, Y, digest, inputs): the last arrays logged


def _dataset_inputs(name, X, Y, context):
    """(digest, [DatasetInput]) of the arrays; the same arrays again (the very objects,
    kept alive here so that their ids stay theirs) are not hashed again."""
    import mlflow.data
    from mlflow.entities import DatasetInput, InputTag

    known = _datasets.get((name, context))
    if known and known[0] is X and known[1] is Y:
        return known[2], known[3]
    ds = mlflow.data.from_numpy(X.T, targets=Y.T, name=name)  # rows = examples
    tag = InputTag(key="mlflow.data.context", value=context)
    inputs = [DatasetInput(dataset_entity(ds), [tag])]
    _datasets[(name, context)] = (X, Y, ds.digest, inputs)
    return ds.digest, inputs


def batches(params, tags, metrics):
    """log_batch keyword arguments within MLflow's limits: at most 100 params, 100 tags and
    1000 metrics a call, 1000 items in all."""
    params, tags, metrics = list(params), list(tags), list(metrics)
    while params or tags or metrics:
        batch = {"params": params[:MAX_PARAMS_PER_CALL], "tags": tags[:MAX_TAGS_PER_CALL]}
        room = MAX_ITEMS_PER_CALL - len(batch["params"]) - len(batch["tags"])
        batch["metrics"] = metrics[:min(room, MAX_METRICS_PER_CALL)]
        del params[:len(batch["params"])], tags[:len(batch["tags"])], \
            metrics[:len(batch["metrics"])]
        yield batch


def ensure_parent_run(cfg_tracking, experiment, study, settings, lock):
    """The study's parent run: created once, its id kept in the study's user attributes so
    that resumed sweeps and other workers find it. lock (the study's ask lock) makes
    'look for it, else create and store it' atomic among launchers starting together."""
    client = client_for(cfg_tracking)
    tracker = Tracker(cfg_tracking, experiment)
    with lock:
        existing = links.parent_run_id(study)
        if not existing:
            run_id = tracker.start(run_name=study.study_name,
                                   tags={"optuna.study": study.study_name,
                                         "dnnsweep.role": "study"})
            links.set_parent_run(study, run_id)
    if existing:
        client.update_run(existing, status="RUNNING")
        return existing
    tracker.log_params(settings)
    tracker.flush()
    return run_id
