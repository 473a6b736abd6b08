"""What a sweep's trial leaves in MLflow (search.sweep.worker.run_trial, in-process on a
journal file and an MLflow SQLite store in tmp_path): its parameters always, a logged
model and a cost plot only when asked for (the refit's model is the one served)."""
import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from mlflow import MlflowClient

from dnn import evaluate
from search import links
from search.config import conf_dir
from search.run.train import load_run_data
from search.study.study import open_study
from search.sweep.worker import run_trial

DIMS = {"train.learning_rate": {"type": "float", "low": 1e-3, "high": 1.0, "log": True}}


def trial_run(tmp_path, *overrides):
    with initialize_config_dir(conf_dir(), version_base="1.3"):
        cfg = compose("sweep", overrides=[
            f"search.storage={tmp_path}/optuna.journal",
            f"tracking.uri=sqlite:///{tmp_path}/mlflow.db",
            f"tracking.artifact_root={tmp_path}/artifacts", "search/sampler=random",
            "search/pruner=none", "train.num_iterations=20", *overrides])
    study = open_study(cfg, DIMS)
    trial = study.ask()
    run_trial(study, trial, cfg, DIMS, [], parent_run_id=None)
    client = MlflowClient(f"sqlite:///{tmp_path}/mlflow.db")
    run = client.get_run(links.trial_run_id(links.frozen_trial(study, trial.number)))
    return cfg, client, run


def artifacts(client, run):
    return {a.path for a in client.list_artifacts(run.info.run_id)}


def test_a_trial_keeps_its_parameters_but_logs_no_model_and_no_plot(tmp_path):
    cfg, client, run = trial_run(tmp_path)
    assert run.info.status == "FINISHED"
    files = artifacts(client, run)
    assert {"config.yaml", "overrides.yaml", "parameters.npz"} <= files
    assert "cost_curve.png" not in files
    assert client.search_logged_models([run.info.experiment_id]) == []
    assert run.data.params["tracking.log_model"] == "False"
    # The stored parameters are the trial's network: they score what the run says.
    with np.load(client.download_artifacts(run.info.run_id, "parameters.npz", str(tmp_path)),
                 allow_pickle=False) as f:
        parameters = {k: f[k] for k in f.files}
    data, split, (X, Y) = load_run_data(cfg)
    scores = evaluate(parameters, X, Y, cfg.model.activation, f"{split}_")
    assert scores[f"{split}_accuracy"] == pytest.approx(run.data.metrics[f"{split}_accuracy"])


def test_a_trials_model_and_plot_on_request(tmp_path):
    _, client, run = trial_run(tmp_path, "search.log_trial_models=true", "tracking.plot=true")
    assert "cost_curve.png" in artifacts(client, run)
    [model] = client.search_logged_models([run.info.experiment_id])
    assert model.source_run_id == run.info.run_id


def test_without_tracking_log_model_no_trial_logs_one_even_on_request(tmp_path):
    _, client, run = trial_run(tmp_path, "search.log_trial_models=true",
                               "tracking.log_model=false")
    assert client.search_logged_models([run.info.experiment_id]) == []


def test_a_trials_thinned_history_still_reproduces_and_draws_whole(tmp_path, capsys):
    """A trial keeps ~tracking.history_points points of each curve in MLflow (the sweep's
    default) and the whole curves in history.npz: dnn-reproduce compares every iteration,
    and the study report's curves are whole."""
    from search.cli import reproduce
    from search.report.curves import fetch_histories

    cfg, client, run = trial_run(tmp_path, "train.num_iterations=300", "train.patience=null")
    run_id = run.info.run_id
    points = cfg.tracking.history_points
    assert len(client.get_metric_history(run_id, "train_cost")) <= points + 2
    assert "history.npz" in artifacts(client, run)
    [curve] = fetch_histories(client, [run_id], ["train_cost"]).values()
    assert [s for s, _ in curve["train_cost"]] == list(range(300))
    assert reproduce.main([run_id, "--tracking-uri", cfg.tracking.uri]) == 0
    out = capsys.readouterr().out
    assert "over 300 common iterations" in out and "the cost curves agree" in out


def test_a_sampled_value_out_of_range_fails_its_trial_naming_the_key(tmp_path):
    """A trial checks the groups its sampled values are in (the rest of the config was
    checked when the sweep started): a negative learning rate is refused before any run."""
    from search import links as trial_links

    with initialize_config_dir(conf_dir(), version_base="1.3"):
        cfg = compose("sweep", overrides=[
            f"search.storage={tmp_path}/optuna.journal",
            f"tracking.uri=sqlite:///{tmp_path}/mlflow.db", "search/sampler=random",
            "search/pruner=none", "search.retry_failed=false", "train.num_iterations=5"])
    dims = {"train.learning_rate": {"type": "float", "low": -1.0, "high": -0.5}}
    study = open_study(cfg, dims)
    trial = study.ask()
    run_trial(study, trial, cfg, dims, [], parent_run_id=None)
    done = trial_links.frozen_trial(study, trial.number)
    assert done.state.name == "FAIL"
    assert "train.learning_rate" in done.user_attrs[trial_links.FAIL_REASON]
    assert trial_links.trial_run_id(done) is None, "refused before its run was opened"
