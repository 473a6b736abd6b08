"""The logged model takes the examples a user has, as the data set holds them (rows of raw
features, uint8 images), and answers what the trained network answers on the training
pipeline's inputs: for every data group through mlflow.pyfunc, and over HTTP through
MLflow's scoring server started, from another folder, with the command dnn-train prints."""
import json
import os
import re
import subprocess
import time
import urllib.request

import h5py
import numpy as np
import pytest
import sklearn.datasets
from helpers import BIN, run_cli, run_id_from
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from pg_helpers import free_port, stop_group

from dnn import predict
from dnn.data import load_dataset, synthetic, train_val_split
from search.config import conf_dir

GROUPS = ["planar", "moons", "circles", "digits", "breast_cancer", "cat", "npz"]
TRAIN = ["train.num_iterations=150", "train.eval_every=50", "train.learning_rate=0.1"]


def write_cat(folder, rng, m=40, m_test=10):
    """The course's two HDF5 files, small: brighter images are cats. Returns the images
    and labels as written (train, test)."""
    def images(n):
        y = np.arange(n) % 2
        x = rng.randint(0, 156, (n, 64, 64, 3)) + 100 * y[:, None, None, None]
        return x.astype(np.uint8), y

    (x, y), (xt, yt) = images(m), images(m_test)
    with h5py.File(folder / "train_catvnoncat.h5", "w") as f:
        f["train_set_x"], f["train_set_y"] = x, y
        f["list_classes"] = np.array([b"non-cat", b"cat"])
    with h5py.File(folder / "test_catvnoncat.h5", "w") as f:
        f["test_set_x"], f["test_set_y"] = xt, yt
    return x, y, xt, ["non-cat", "cat"]


def write_npz(path, rng, m=90):
    """A user's file: (m, 3, 4) float32 examples of 3 classes far from zero mean."""
    y = np.arange(m) % 3
    x = (50 + 10 * rng.randn(m, 3, 4) + 5 * y[:, None, None]).astype(np.float32)
    np.savez(path, X=x[:70], y=y[:70], X_test=x[70:], y_test=y[70:])
    return x[:70], y[:70], x[70:], ["0", "1", "2"]


def raw_data(name, folder):
    """(overrides, x, y, x_test, class names): the data set as a user holds it, made or read
    here without dnn.data."""
    rng = np.random.RandomState(0)
    if name == "cat":
        return [f"data.dir={folder}"], *write_cat(folder, rng)
    if name == "npz":
        return [f"data.path={folder / 'mine.npz'}"], *write_npz(folder / "mine.npz", rng)
    if name in ("digits", "breast_cancer"):
        bunch = getattr(sklearn.datasets, f"load_{name}")()
        return [], bunch.data, bunch.target, None, [str(c) for c in bunch.target_names]
    return [], None, None, None, ["0", "1"]  # generated: from the config's options below


def generated(cfg_data):
    """Points (m, 2) and labels of a generated set, from the group's own options."""
    options = OmegaConf.to_container(cfg_data)
    name = options.pop("name")
    for key in ("val_fraction", "standardize"):
        options.pop(key)
    X, y = getattr(synthetic, name)(**options)  # (2, m)
    return X.T, y


def composed(overrides):
    with initialize_config_dir(config_dir=conf_dir(), version_base="1.3"):
        return compose("config", overrides=overrides)


def expected_answers(cfg, parameters, x, y, x_test):
    """[(raw examples, the classes the network predicts for them from the training
    pipeline's inputs)] for the training, validation and test splits."""
    d = load_dataset(**OmegaConf.to_container(cfg.data))
    train_idx, val_idx = train_val_split(y, cfg.data.val_fraction, cfg.data.seed)
    pairs = [(x[train_idx], d.X_train), (x[val_idx], d.X_val), (x_test, d.X_test)]
    return [(raw, predict(X, parameters, cfg.model.activation).ravel())
            for raw, X in pairs if raw is not None and len(raw)]


@pytest.fixture
def store(tmp_path, monkeypatch):
    import mlflow

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlruns/mlflow.db")
    yield
    mlflow.set_tracking_uri(None)


@pytest.mark.slow
@pytest.mark.parametrize("name", GROUPS)
def test_the_model_answers_raw_examples_as_the_pipeline_does(store, tmp_path, name):
    import mlflow.pyfunc

    from search.run.train import train_run

    overrides, x, y, x_test, names = raw_data(name, tmp_path)
    cfg = composed([f"data={name}", *overrides, *TRAIN])
    if x is None:
        x, y = generated(cfg.data)
    run = train_run(cfg, progress=False)
    model = mlflow.pyfunc.load_model(f"runs:/{run.run_id}/model")
    answers = expected_answers(cfg, run.parameters, x, y, x_test)
    assert len(np.unique(np.concatenate([a for _, a in answers]))) > 1  # not one class for all
    for raw, expected in answers:
        got = model.predict(raw)
        np.testing.assert_array_equal(got["class_index"], expected)
        np.testing.assert_array_equal(got["class"], np.asarray(names)[expected])
    val_idx = train_val_split(y, cfg.data.val_fraction, cfg.data.seed)[1]
    accuracy = np.mean(model.predict(x[val_idx])["class_index"] == y[val_idx])
    assert accuracy == pytest.approx(run.metrics["val_accuracy"])
    example = model.input_example
    assert example.dtype == x.dtype and example.shape == (1, *x.shape[1:])


def post(port, examples):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations", headers={"Content-Type": "application/json"},
        data=json.dumps({"inputs": examples.tolist()}).encode())
    with urllib.request.urlopen(request, timeout=60) as r:
        return json.loads(r.read())["predictions"]


def wait_until_served(proc, port, log, timeout=300):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"the server did not answer in {timeout} s:\n{log.read_text()}")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["digits", "cat"])
def test_the_printed_serve_command_serves_raw_examples_from_another_folder(tmp_path, name):
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir(), elsewhere.mkdir()
    overrides, x, y, x_test, names = raw_data(name, project)
    proc = run_cli("dnn-train", f"data={name}", *overrides, *TRAIN, f"tracking.register={name}",
                   cwd=project, env={"MLFLOW_TRACKING_URI": None}, check=0)
    (command,) = re.findall(r"^serve it: +(.*)$", proc.stdout, re.M)
    from helpers import client_of

    run_id = run_id_from(proc.stdout)
    with np.load(client_of(project).download_artifacts(run_id, "parameters.npz", str(tmp_path)),
                 allow_pickle=False) as f:
        parameters = {k: f[k] for k in f.files}
    cfg = composed([f"data={name}", *overrides, *TRAIN])
    answers = expected_answers(cfg, parameters, x, y, x_test)

    port, log = free_port(), tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"  # mlflow beside this Python
    with open(log, "w") as out:
        server = subprocess.Popen(f"{command} -p {port}", shell=True, cwd=elsewhere, env=env,
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_served(server, port, log)
        for raw, expected in answers:
            got = post(port, raw)
            assert [p["class_index"] for p in got] == expected.tolist()
            assert [p["class"] for p in got] == [names[i] for i in expected]
    finally:
        stop_group(server)
    assert os.listdir(elsewhere) == []  # no store of its own left behind
