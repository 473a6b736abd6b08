"""The logged model of a run (search/tracking/model.py) in a real temporary MLflow store."""
import importlib.metadata
import json
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from sklearn.metrics import accuracy_score

from search.config import conf_dir


@pytest.fixture
def store(tmp_path, monkeypatch):
    import mlflow

    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path}/mlruns/mlflow.db"
    # Through the environment, which the fixture restores, for MLflow's own loaders.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    yield uri
    mlflow.set_tracking_uri(None)


def train(overrides=()):
    from search.run.train import train_run

    with initialize_config_dir(config_dir=conf_dir(), version_base="1.3"):
        cfg = compose("config", overrides=["train.num_iterations=60", "train.eval_every=20",
                                           *overrides])
    return train_run(cfg, progress=False)


@pytest.fixture
def run(store):
    return train()


def logged_models(run_id):
    import mlflow

    exp = mlflow.get_run(run_id).info.experiment_id
    return mlflow.search_logged_models(experiment_ids=[exp], output_format="list")


def test_the_network_is_a_logged_model_of_its_run_with_a_signature(run):
    (model,) = logged_models(run.run_id)
    assert model.name == "model" and model.source_run_id == run.run_id
    linked = {m.key: m.value for m in model.metrics}
    assert linked["val_accuracy"] == pytest.approx(run.metrics["val_accuracy"])
    import mlflow.pyfunc

    loaded = mlflow.pyfunc.load_model(f"models:/{model.model_id}")
    signature = loaded.metadata.signature
    inputs = signature.inputs.to_dict()
    assert inputs == [{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": (-1, 2)}}]
    assert signature.outputs.to_dict() == [
        {"type": "string", "name": "class", "required": True},
        {"type": "long", "name": "class_index", "required": True}]
    from dnn.data import planar

    # The input example is the first training example as the data set holds it.
    np.testing.assert_array_equal(loaded.input_example, planar()[0][:, :1].T)


def test_the_model_loads_by_id_and_by_run_and_predicts_the_runs_accuracy(run):
    import mlflow.pyfunc

    from dnn.data import load_dataset

    (model,) = logged_models(run.run_id)
    d = load_dataset("planar")
    y_val = d.Y_val.ravel()
    for uri in (f"models:/{model.model_id}", f"runs:/{run.run_id}/model"):
        predicted = mlflow.pyfunc.load_model(uri).predict(d.X_val.T)  # examples as rows
        assert list(predicted.columns) == ["class", "class_index"] and len(predicted) == y_val.size
        assert accuracy_score(y_val, predicted["class_index"]) == pytest.approx(
            run.metrics["val_accuracy"])
        assert (predicted["class"] == predicted["class_index"].astype(str)).all()


def test_an_ensembles_model_predicts_the_mean_of_its_networks_as_its_run_scored_it(store):
    import mlflow.pyfunc

    from dnn import predict_proba
    from dnn.data import load_dataset
    from dnn.ensemble import members

    run = train(["model.ensemble=3"])
    assert len(members(run.parameters)) == 3
    d = load_dataset("planar")
    predicted = mlflow.pyfunc.load_model(f"runs:/{run.run_id}/model").predict(d.X_val.T)
    assert accuracy_score(d.Y_val.ravel(), predicted["class_index"]) == pytest.approx(
        run.metrics["val_accuracy"])
    each = [predict_proba(d.X_val, n, "tanh") for n in members(run.parameters)]
    mean = np.mean(each, axis=0)  # (1, m): the three networks' mean probability
    np.testing.assert_array_equal(predicted["class_index"], (mean[0] > 0.5).astype(int))


def test_a_wrong_number_of_features_names_the_expected_shape(run):
    import mlflow.pyfunc

    loaded = mlflow.pyfunc.load_model(f"runs:/{run.run_id}/model")
    with pytest.raises(Exception, match=r"expected shape \(-1, 2\)"):
        loaded.predict(np.zeros((3, 5)))


def test_requirements_name_only_what_an_index_has(run, tmp_path):
    import mlflow

    (model,) = logged_models(run.run_id)
    path = Path(mlflow.artifacts.download_artifacts(f"models:/{model.model_id}",
                                                    dst_path=str(tmp_path / "m")))
    names = []
    for line in (path / "requirements.txt").read_text().split():
        name, _, version = line.partition("==")
        dist = importlib.metadata.distribution(name)
        assert dist.version == version
        # Installed from an index: no direct_url.json (a local or editable project has one).
        assert dist.read_text("direct_url.json") is None, name
        names.append(name)
    assert "dnnsweep" not in names and "numpy" in names
    # The network's code travels with the model.
    assert (path / "code" / "dnn" / "train.py").is_file()
    assert json.loads((path / "input_example.json").read_text())


@pytest.mark.slow
def test_register_makes_a_version_and_moves_champion(store):
    from mlflow import MlflowClient

    first = train(["tracking.register=flower"])
    second = train(["tracking.register=flower", "train.learning_rate=0.1"])
    client = MlflowClient()
    champion = client.get_model_version_by_alias("flower", "champion")
    assert str(champion.version) == "2" and champion.run_id == second.run_id
    assert client.get_model_version("flower", 1).run_id == first.run_id
    import mlflow.pyfunc

    assert len(mlflow.pyfunc.load_model("models:/flower@champion").predict(np.zeros((4, 2)))) == 4


def test_the_serve_command_names_the_store_by_an_absolute_path_and_masks_a_password(
        tmp_path, monkeypatch):
    from search.tracking.model import serve_command

    monkeypatch.chdir(tmp_path)
    assert serve_command("sqlite:///mlruns/mlflow.db", "models:/flower@champion") == (
        f"MLFLOW_TRACKING_URI=sqlite:///{tmp_path.resolve()}/mlruns/mlflow.db "
        "mlflow models serve -m models:/flower@champion --env-manager local")
    command = serve_command("postgresql://me:secret@db/mlflow", "models:/a b@champion")
    assert "secret" not in command and "'models:/a b@champion'" in command
