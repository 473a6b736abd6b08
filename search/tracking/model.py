"""The network of a run as an MLflow 3 logged model, and its place in the model registry.

The model is logged from code (search/tracking/model_code.py: no pickle) with the `dnn`
package beside it (code_paths), so a fresh environment needs only what a package index has:
numpy and mlflow. It carries the preprocessing its training applied (dnn.data.preprocess:
flattening, pixel scaling, the training split's mean and std, the class names), so it takes
examples as the data set holds them. Its signature says so (a tensor of the data set's own
dtype and example shape in; each example's class name and index out), with the first
training example as its input example. It is an output of its run with the run's final
metrics linked to it.
"""
import shlex
from pathlib import Path

import dnn
from dnn.data import Preprocess
from search.secrets import mask
from search.storage.urls import parse, sqlite_path

MODEL_NAME = "model"  # runs:/<run_id>/model, as before MLflow 3
CHAMPION = "champion"


def requirements():
    """What the model needs from an index: the versions running here, nothing local."""
    import mlflow
    import numpy as np

    return [f"mlflow=={mlflow.__version__}", f"numpy=={np.__version__}"]


def signature_of(preprocess):
    """Inputs (-1, *shape) in the data set's dtype, examples as rows as it holds them;
    outputs one row per example: `class` (its name) and `class_index`."""
    import numpy as np
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema, TensorSpec

    inputs = Schema([TensorSpec(np.dtype(preprocess.dtype), (-1, *preprocess.shape))])
    outputs = Schema([ColSpec("string", "class"), ColSpec("long", "class_index")])
    return ModelSignature(inputs=inputs, outputs=outputs)


def log_network(client, experiment_id, run_id, parameters_npz, preprocess_npz, activation,
                final_metrics):
    """Log the network of run_id (parameters_npz) with its preprocessing (preprocess_npz,
    saved by dnn.data.Preprocess.save) as a logged model named `model` in the run's
    experiment, as an output of the run, with the run's final metrics linked to it.
    Returns its id.

    The model is created first and linked here, not by log_model's own run lookup, which
    reads every metric's whole history (2,500 train_cost points: seconds per run)."""
    import mlflow.pyfunc
    from mlflow.entities import LoggedModelOutput, Metric

    preprocess = Preprocess.load(preprocess_npz)
    model = client.create_logged_model(experiment_id, name=MODEL_NAME, source_run_id=run_id)
    mlflow.pyfunc.log_model(
        name=MODEL_NAME, model_id=model.model_id,
        python_model=str(Path(__file__).with_name("model_code.py")),
        code_paths=[str(Path(dnn.__file__).parent)],
        artifacts={"parameters": str(parameters_npz), "preprocess": str(preprocess_npz)},
        model_config={"activation": activation},
        signature=signature_of(preprocess), input_example=preprocess.example,
        # Given explicitly: inferring them costs seconds per model and would pin this
        # project's own package, which no index has.
        pip_requirements=requirements())
    step = max((s for _, _, s in final_metrics.values()), default=0)
    client.log_outputs(run_id, [LoggedModelOutput(model.model_id, step)])
    client.log_batch(run_id, metrics=[
        Metric(k, v, ts, s, run_id=run_id, model_id=model.model_id)
        for k, (v, ts, s) in final_metrics.items()])
    return model.model_id


def register(client, model_id, run_id, name):
    """A new version of registered model `name` from the logged model, and the alias
    `champion` moved to it (what mlflow.register_model does, without its prints).
    Returns (the models:/name@champion URI, the version)."""
    import json

    from mlflow.exceptions import MlflowException
    from mlflow.utils.mlflow_tags import MLFLOW_MODEL_VERSIONS

    try:
        client.create_registered_model(name)
    except MlflowException as e:
        if e.error_code not in ("RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"):
            raise
    version = client.create_model_version(name, f"models:/{model_id}", run_id=run_id,
                                          model_id=model_id)
    client.set_registered_model_alias(name, CHAMPION, version.version)
    # The logged model's page lists the registered versions made from it.
    client.set_logged_model_tags(model_id, {MLFLOW_MODEL_VERSIONS: json.dumps(
        [{"name": name, "version": version.version}])})
    return f"models:/{name}@{CHAMPION}", version.version


def serve_command(tracking_uri, model_uri):
    """The command that serves model_uri (models:/NAME@champion) from the store at
    tracking_uri, as printed, from any folder: a local store's path made absolute, the
    current environment used as it is (--env-manager local: seconds, not an environment
    built from scratch). A password in the URI is masked."""
    path = sqlite_path(tracking_uri)
    if path and not Path(path).is_absolute():
        tracking_uri = parse(tracking_uri).set(database=str(Path(path).resolve())) \
            .render_as_string(hide_password=False)
    return (f"MLFLOW_TRACKING_URI={shlex.quote(mask(tracking_uri))} mlflow models serve "
            f"-m {shlex.quote(model_uri)} --env-manager local")
