"""MLflow pyfunc model of a trained dnn network (logged as code, loaded with its parameters)."""
import mlflow
import numpy as np

from dnn import predict


class DnnModel(mlflow.pyfunc.PythonModel):
    """predict(X) with X of shape (m, n_x), examples as rows as MLflow serves them;
    returns the predicted class of each example, shape (m,)."""

    # Plain arrays in and out: no type-hint based input validation (and no warning about it).
    _skip_type_hint_validation = True

    def load_context(self, context):
        with np.load(context.artifacts["parameters"], allow_pickle=False) as f:
            self.parameters = {k: f[k] for k in f.files}
        self.activation = context.model_config["activation"]

    def predict(self, context, model_input, params=None):
        X = np.asarray(model_input, dtype=self.parameters["W1"].dtype)
        n_x = self.parameters["W1"].shape[1]
        if X.ndim != 2 or X.shape[1] != n_x:
            raise ValueError(f"expected input of shape (m, {n_x}): one row per example with "
                             f"{n_x} features, got shape {X.shape}")
        return predict(X.T, self.parameters, self.activation).ravel()  # (n_x, m) -> (m,)


mlflow.models.set_model(DnnModel())
