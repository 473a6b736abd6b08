"""MLflow pyfunc model of a trained dnn network (logged as code, loaded with its parameters
and the preprocessing its training applied)."""
import mlflow
import numpy as np
import pandas as pd

from dnn import predict
from dnn.data.preprocess import Preprocess


class DnnModel(mlflow.pyfunc.PythonModel):
    """predict(x) with x (m, *shape): examples as rows, as the data set holds them (a row of
    raw features; an image of uint8 pixels); returns one row per example: its class name
    (`class`) and class index (`class_index`)."""

    # Plain arrays in: no type-hint based input validation (and no warning about it).
    _skip_type_hint_validation = True

    def load_context(self, context):
        with np.load(context.artifacts["parameters"], allow_pickle=False) as f:
            self.parameters = {k: f[k] for k in f.files}
        self.preprocess = Preprocess.load(context.artifacts["preprocess"])
        self.activation = context.model_config["activation"]

    def predict(self, context, model_input, params=None):
        X = self.preprocess.apply(np.asarray(model_input))  # (m, *shape) -> (n_x, m)
        X = X.astype(self.parameters["W1"].dtype, copy=False)  # the dtype it trained in
        indices = predict(X, self.parameters, self.activation).ravel()  # (1, m) -> (m,)
        return pd.DataFrame({"class": self.preprocess.labels(indices), "class_index": indices})


mlflow.models.set_model(DnnModel())
