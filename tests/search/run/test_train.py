"""A tracked run with early stopping: where it stopped is on the run, its final scores are
its best evaluation's, and it never stops on a test split."""
import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from mlflow import MlflowClient

from search.config import conf_dir
from search.run.train import train_run


def composed(tmp_path, *overrides):
    with initialize_config_dir(conf_dir(), version_base="1.3"):
        return compose("config", overrides=[
            "model.hidden_units=[16]", "model.activation=relu", "model.init=he",
            "train.optimizer=adam", "train.learning_rate=0.05", "train.num_iterations=300",
            "train.eval_every=5", f"tracking.uri=sqlite:///{tmp_path}/mlflow.db",
            "tracking.log_model=false", *overrides])


def test_a_run_that_stops_early_says_where_and_scores_its_best_evaluation(tmp_path):
    cfg = composed(tmp_path, "data=digits", "train.patience=3")
    result = train_run(cfg, progress=False)
    client = MlflowClient(f"sqlite:///{tmp_path}/mlflow.db")
    run = client.get_run(result.run_id)
    history = {m.step: m.value for m in client.get_metric_history(result.run_id, "val_cost")}
    stop = len(result.costs) - 1
    best = int(run.data.metrics["best_iteration"])
    assert stop < 299 and best < stop
    assert history[best] == min(history[s] for s in history if s < stop + 1)
    assert run.data.tags["early_stopping"].startswith(f"stopped at iteration {stop} of 300; "
                                                      f"best val_cost")
    assert result.metrics["val_cost"] == pytest.approx(history[best], rel=1e-12)
    assert run.data.metrics["val_cost"] == pytest.approx(history[best], rel=1e-12)


def test_a_run_evaluated_on_the_test_split_never_stops_on_it(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.randn(160, 2)
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    np.savez(tmp_path / "xor.npz", X=X[:120], y=y[:120], X_test=X[120:], y_test=y[120:])
    cfg = composed(tmp_path, "data=npz", f"data.path={tmp_path}/xor.npz", "data.val_fraction=0",
                   "train.patience=1", "train.num_iterations=40")
    result = train_run(cfg, progress=False)
    run = MlflowClient(f"sqlite:///{tmp_path}/mlflow.db").get_run(result.run_id)
    assert len(result.costs) == 40 and "test_cost" in run.data.metrics
    assert "early_stopping" not in run.data.tags and "best_iteration" not in run.data.metrics


def test_an_ensemble_run_names_the_network_that_diverged_and_averages_the_others(tmp_path):
    rng = np.random.RandomState(0)
    y = rng.randint(3, size=120)
    X = rng.randn(5, 120) * 3 + y  # unscaled: momentum at 3.5 diverges from some seeds
    np.savez(tmp_path / "edge.npz", X=X.T, y=y)
    cfg = composed(tmp_path, "data=npz", f"data.path={tmp_path}/edge.npz",
                   "data.standardize=false", "model.hidden_units=[16,8]",
                   "model.activation=leaky_relu", "train.optimizer=momentum",
                   "train.learning_rate=3.5", "train.batch_size=16", "train.num_epochs=10",
                   "train.dtype=float32", "train.seed=1", "model.ensemble=4")
    result = train_run(cfg, progress=False)
    run = MlflowClient(f"sqlite:///{tmp_path}/mlflow.db").get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["ensemble_networks"] == 3
    assert run.data.tags["ensemble_left_out"].startswith("seed 2: training diverged")
