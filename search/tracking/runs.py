"""One MLflow run as dnnsweep writes it: MLflow's source and user tags, the environment,
params, buffered metrics, the data set, artifacts, the logged model, the final status."""
import os
import subprocess
import sys
import time
from pathlib import Path

import dnn
from search import links
from search.secrets import mask, mask_item
from search.tracking import model
from search.tracking.client import client_for, experiment_id
from search.tracking.model import EXAMPLE_ROWS

MAX_PARAMS_PER_CALL = 100
MAX_METRICS_PER_CALL = 1000
PARAM_VALUE_LIMIT = 6000


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
    (library and threads)."""
    import numpy as np
    from threadpoolctl import threadpool_info


    tags = {**source_tags(), "dnnsweep.version": dnn.__version__,
            "numpy.version": np.__version__}
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    if blas:
        tags["numpy.blas"] = ", ".join(f"{i['internal_api']} {i.get('version')}" for i in blas)
        # OpenBLAS's sums can differ in their last bits with the number of threads:
        # dnn-reproduce re-trains with as many as NumPy's own BLAS had (SciPy may load
        # another, which a sweep's worker, loading it after its limit, leaves unlimited).
        own = [i for i in blas  # in numpy.libs/ (Linux, Windows) or numpy/.dylibs/ (macOS)
               if any(p.startswith("numpy") for p in Path(i["filepath"]).parent.parts[-2:])]
        tags["numpy.blas_threads"] = str(min(i["num_threads"] for i in own or blas))
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5)
        if commit.returncode == 0:
            tags["mlflow.source.git.commit"] = commit.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return tags


def dataset_entity(ds):
    """The stored form (mlflow.entities.Dataset) of an mlflow.data dataset, from its public
    to_dict() (name, digest, source, source_type, and schema and profile when it has them)."""
    from mlflow.entities import Dataset

    d = ds.to_dict()
    return Dataset(name=d["name"], digest=d["digest"], source_type=d["source_type"],
                   source=d["source"], schema=d.get("schema"), profile=d.get("profile"))


class Tracker:
    """One MLflow run: created by start(), closed by end() with a terminal status."""

    def __init__(self, cfg_tracking, experiment=None):
        self.cfg = cfg_tracking
        self.client = client_for(cfg_tracking)
        self.experiment = experiment or cfg_tracking.experiment
        self.run_id = self.experiment_id = None
        self._buffer = []
        self._flush_seconds = float(cfg_tracking.flush_seconds)  # read once: metric() is hot
        self._last_flush = time.monotonic()
        self._example = None  # a few training examples (rows) for the logged model
        self._last_step, self._final = 0, {}  # the last step and its metrics

    def start(self, run_name=None, tags=None, parent_run_id=None):
        from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

        all_tags = {**environment_tags(), **(tags or {})}
        if parent_run_id:
            all_tags[MLFLOW_PARENT_RUN_ID] = parent_run_id
        exp_id = self.experiment_id = experiment_id(self.client, self.experiment, self.cfg)
        run = self.client.create_run(exp_id, run_name=run_name,
                                     tags={k: mask(v) for k, v in all_tags.items()})
        self.run_id = run.info.run_id
        return self.run_id

    def log_params(self, params):
        from mlflow.entities import Param

        items = [Param(k, mask_item(k, v)[:PARAM_VALUE_LIMIT]) for k, v in params.items()]
        for i in range(0, len(items), MAX_PARAMS_PER_CALL):
            self.client.log_batch(self.run_id, params=items[i:i + MAX_PARAMS_PER_CALL])

    def set_tags(self, tags):
        from mlflow.entities import RunTag

        self.client.log_batch(self.run_id, tags=[RunTag(k, mask(v)) for k, v in tags.items()])

    def metric(self, key, value, step):
        """Buffer one point; flushed by size, by time (live curves), and at the end."""
        self._buffer.append((key, float(value), int(time.time() * 1000), int(step)))
        if (len(self._buffer) >= MAX_METRICS_PER_CALL
                or time.monotonic() - self._last_flush >= self._flush_seconds):
            self.flush()

    def flush(self):
        from mlflow.entities import Metric

        points = [Metric(k, v, ts, s) for k, v, ts, s in self._buffer]
        for k, v, ts, s in self._buffer:  # the values at the last step: linked to the model
            if s >= self._last_step:
                if s > self._last_step:
                    self._last_step, self._final = s, {}
                self._final[k] = (v, ts, s)
        for i in range(0, len(points), MAX_METRICS_PER_CALL):
            self.client.log_batch(self.run_id, metrics=points[i:i + MAX_METRICS_PER_CALL])
        self._buffer.clear()
        self._last_flush = time.monotonic()

    def log_dataset(self, name, X, Y, context):
        import mlflow.data
        from mlflow.entities import DatasetInput, InputTag

        ds = mlflow.data.from_numpy(X.T, targets=Y.T, name=name)  # rows = examples
        if context == "training":

            self._example = X[:, :EXAMPLE_ROWS].T.copy()  # (n_x, m) -> (rows, n_x)
        from mlflow.exceptions import MlflowException

        tag = InputTag(key="mlflow.data.context", value=context)
        inputs = [DatasetInput(dataset_entity(ds), [tag])]
        try:
            self.client.log_inputs(self.run_id, inputs)
        except MlflowException:
            # Workers logging the same new data set at once race on its unique row
            # (IntegrityError on datasets); the loser finds it stored on a second try.
            time.sleep(0.2)
            self.client.log_inputs(self.run_id, inputs)
        return ds.digest

    def log_artifact(self, path, artifact_path=None):
        self.client.log_artifact(self.run_id, str(path), artifact_path)

    def log_model(self, parameters_npz, activation):
        """The run's network as an MLflow logged model (search/tracking/model.py), linked to
        the run and its final metrics; registered when tracking.register names a model."""
        import numpy as np


        with np.load(parameters_npz, allow_pickle=False) as f:
            parameters = {k: f[k] for k in f.files}
        model_id = model.log_network(self.client, self.experiment_id, self.run_id,
                                     parameters_npz, parameters, activation, self._example,
                                     self._final)
        name = getattr(self.cfg, "register", None)
        if name:
            uri, version = model.register(self.client, model_id, self.run_id, name)
            self.set_tags({"registered_model": f"{name}/{version}"})
            return uri
        return f"models:/{model_id}"

    def end(self, status="FINISHED", error=None):
        """Flush and close the run; FAILED/KILLED runs keep their reason as a tag."""
        try:
            if self._buffer:
                self.flush()
            if error:
                self.set_tags({"error": str(error)[:5000]})
        finally:
            self.client.set_terminated(self.run_id, status=status)


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
    return run_id
