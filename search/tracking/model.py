"""The network of a run as an MLflow 3 logged model, and its place in the model registry.

The model is logged from code (search/tracking/model_code.py: no pickle) with the `dnn`
package beside it (code_paths), so a fresh environment needs only what a package index has:
numpy and mlflow. It carries a signature (float64 examples as rows, one class per row) and
an input example from the training data, and is an output of its run with the run's final
metrics linked to it.
"""
from pathlib import Path

import dnn
from dnn import predict

MODEL_NAME = "model"  # runs:/<run_id>/model, as before MLflow 3
EXAMPLE_ROWS = 1  # a 64x64x3 image is 12,288 numbers: one is example enough
CHAMPION = "champion"


def requirements():
    """What the model needs from an index: the versions running here, nothing local."""
    import mlflow
    import numpy as np

    return [f"mlflow=={mlflow.__version__}", f"numpy=={np.__version__}"]


def signature_of(X_example, parameters, activation):
    """Inputs (-1, n_x) float64 examples as rows; outputs (-1,) predicted classes."""
    import numpy as np
    from mlflow.models import infer_signature


    classes = predict(X_example.T, parameters, activation).ravel()  # (1, m) -> (m,)
    return infer_signature(np.asarray(X_example, dtype=np.float64), classes)


def log_network(client, experiment_id, run_id, parameters_npz, parameters, activation,
                X_example, final_metrics):
    """Log the network of run_id as a logged model named `model` in the run's experiment,
    as an output of the run, with the run's final metrics linked to it. Returns its id.

    The model is created first and linked here, not by log_model's own run lookup, which
    reads every metric's whole history (2,500 train_cost points: seconds per run)."""
    import mlflow.pyfunc
    import numpy as np
    from mlflow.entities import LoggedModelOutput, Metric


    model = client.create_logged_model(experiment_id, name=MODEL_NAME, source_run_id=run_id)
    example = np.ascontiguousarray(X_example[:EXAMPLE_ROWS], dtype=np.float64)
    mlflow.pyfunc.log_model(
        name=MODEL_NAME, model_id=model.model_id,
        python_model=str(Path(__file__).with_name("model_code.py")),
        code_paths=[str(Path(dnn.__file__).parent)],
        artifacts={"parameters": str(parameters_npz)}, model_config={"activation": activation},
        signature=signature_of(example, parameters, activation), input_example=example,
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
