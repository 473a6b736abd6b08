"""Cross-validated trials, refit on all training data, one look at the test split."""
import re
from dataclasses import replace

import numpy as np
import pytest
from helpers import run_cli
from hydra import compose, initialize_config_dir
from mlflow import MlflowClient

from dnn.settings import settings_from
from search.config import conf_dir
from search.run.cv import (
    METHODS,
    Stacked,
    choose_method,
    cross_validate,
    fold_splits,
    training_pool,
)
from search.run.train import train_run


def test_fold_splits_are_disjoint_stratified_and_repeat_with_new_seeds():
    y = np.r_[np.zeros(40, int), np.ones(20, int)]
    splits = fold_splits(y, 4, 2, seed=0)
    assert [name for name, _, _ in splits][:5] == ["r1_fold_1", "r1_fold_2", "r1_fold_3",
                                                    "r1_fold_4", "r2_fold_1"]
    for r in range(2):
        vals = [va for _, _, va in splits[4 * r:4 * r + 4]]
        assert sorted(np.concatenate(vals).tolist()) == list(range(60))
        for (_, tr, va) in splits[4 * r:4 * r + 4]:
            assert not set(tr) & set(va) and y[va].sum() == 5
    assert not np.array_equal(splits[0][2], splits[4][2])


@pytest.mark.parametrize("batch_size, wide, optimizer", [
    (None, False, "momentum"), (40, False, "momentum"), (None, True, "momentum"),
    (None, False, "adam"), (40, False, "adam"), (None, True, "adam"), (40, False, "gd")])
def test_stacked_and_lockstep_folds_agree(batch_size, wide, optimizer):
    from dataclasses import asdict

    from dnn import ModelSettings, TrainSettings
    from dnn.data import load_dataset

    data = load_dataset("moons", n_samples=250, noise=0.2, seed=0)  # pool: train + val
    if wide:  # 250 noise features more than examples: stacked takes the span path
        rng = np.random.RandomState(1)
        data = data._replace(**{k: np.vstack([getattr(data, k), 0.1 * rng.randn(250, n)])
                                for k, n in (("X_train", data.X_train.shape[1]),
                                             ("X_val", data.X_val.shape[1]))})
    kwargs = {**asdict(ModelSettings([6, 4], "relu", "he")),
              **asdict(TrainSettings(learning_rate=0.01 if optimizer == "adam" else 0.2,
                                     num_iterations=100, num_epochs=100,
                                     eval_every=25 if batch_size is None else 125,  # 5 updates an epoch
                                     batch_size=batch_size, keep_prob=0.9, lambd=0.1,
                                     optimizer=optimizer))}
    seen = {m: [] for m in METHODS}
    out = {m: cross_validate(data, kwargs, 3, 2, 1, lambda *a, m=m: seen[m].append(a),
                             method=m) for m in METHODS}
    (costs, finals, params, per_fold), ref = out["stacked"], out["lockstep"]
    assert costs == pytest.approx(ref[0], rel=1e-10) and len(costs) == 100
    assert finals == pytest.approx(ref[1], rel=1e-10, abs=1e-12)

    def flat(nested):
        return {f"{a}/{b}": v for a, d in nested.items() for b, v in d.items()}

    assert flat(per_fold) == pytest.approx(flat(ref[3]), rel=1e-10, abs=1e-12)
    assert list(per_fold) == [f"r{r}_fold_{k}" for r in (1, 2) for k in (1, 2, 3)]
    for k, v in ref[2].items():
        np.testing.assert_allclose(params[k], v, rtol=1e-10, atol=1e-12)
    steps = [(i, mean, fold) for i, _, mean, fold in seen["stacked"] if fold]
    assert [i for i, _, _ in steps] == [0, 25, 50, 75, 99]
    assert len(seen["stacked"]) == len(seen["lockstep"])
    for (i, cost, mean, fold), (i_ref, cost_ref, mean_ref, fold_ref) in zip(seen["stacked"],
                                                                           seen["lockstep"]):
        assert (i, cost) == pytest.approx((i_ref, cost_ref), rel=1e-10)
        assert mean == pytest.approx(mean_ref, rel=1e-10)
        assert flat(fold) == pytest.approx(flat(fold_ref), rel=1e-10, abs=1e-12)
    X, Y, y = training_pool(data)
    stacked = Stacked(X, Y, fold_splits(y, 3, 2, 1), [1] * 6, *settings_from(**kwargs))
    assert stacked.first_layer == ("span" if wide and optimizer != "adam" else "dense")


def test_choose_method_keeps_lockstep_for_a_wide_and_long_dense_first_layer():
    from dnn import ModelSettings, TrainSettings

    full = TrainSettings()
    assert choose_method(12288, 209, ModelSettings([20, 7, 5]), full, 5) == "stacked"
    assert choose_method(12288, 209, ModelSettings([128, 7, 5]), full, 5) == "stacked"
    assert choose_method(784, 10000, ModelSettings([64, 32]), full, 5) == "stacked"
    assert choose_method(784, 10000, ModelSettings([256, 128]), full, 5) == "lockstep"
    batches = TrainSettings(batch_size=64)
    assert choose_method(784, 10000, ModelSettings([256, 128]), batches, 5) == "stacked"
    # m <= n_x: the span path of the first layer makes stacked the cheaper one
    assert choose_method(4096, 4096, ModelSettings([256, 128]), full, 5) == "stacked"
    adam = TrainSettings(optimizer="adam")
    assert choose_method(4096, 4096, ModelSettings([256, 128]), adam, 5) == "lockstep"
    # a narrow input (digits): the deeper layers are much of the work, lockstep is cheaper
    assert choose_method(64, 1797, ModelSettings([64, 32]), adam, 5, n_y=10) == "lockstep"
    assert choose_method(512, 1797, ModelSettings([64, 32]), adam, 5, n_y=10) == "stacked"
    assert choose_method(64, 1797, ModelSettings([64, 32]), replace(adam, batch_size=64), 5,
                         n_y=10) == "stacked"


@pytest.mark.slow
def test_a_cv_run_scores_the_fold_mean_at_every_step(tmp_path):
    with initialize_config_dir(conf_dir(), version_base="1.3"):
        cfg = compose("config", overrides=[
            "cv.folds=3", "train.num_iterations=60", "train.eval_every=20",
            f"tracking.uri=sqlite:///{tmp_path}/mlflow.db", "tracking.log_model=false"])
    seen = []
    result = train_run(cfg, on_step=lambda i, c, m: seen.append((i, m)) and False, progress=False)
    client = MlflowClient(f"sqlite:///{tmp_path}/mlflow.db")

    def history(key):
        return {m.step: m.value for m in client.get_metric_history(result.run_id, key)}

    folds = [history(f"fold_{k}/val_cost") for k in (1, 2, 3)]
    mean = history("val_cost")
    assert sorted(mean) == [0, 20, 40, 59]
    for step, value in mean.items():
        assert value == pytest.approx(np.mean([f[step] for f in folds]), rel=1e-12)
    # The pruning hook sees exactly the mean at each evaluation step.
    assert {i: m["val_cost"] for i, m in seen if m} == pytest.approx(mean, rel=1e-12)
    assert result.metrics["val_cost"] == pytest.approx(mean[59], rel=1e-12)
    assert result.metrics["val_cost_std"] == pytest.approx(np.std([f[59] for f in folds]))
    assert "val_accuracy_std" in client.get_run(result.run_id).data.metrics


@pytest.fixture
def npz_with_test(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.randn(160, 2)
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    path = tmp_path / "xor.npz"
    np.savez(path, X=X[:120], y=y[:120], X_test=X[120:], y_test=y[120:])
    return path


@pytest.mark.slow
def test_cv_sweep_refits_once_and_its_trials_reproduce(tmp_path, npz_with_test):
    args = ["data=npz", f"data.path={npz_with_test}", "search.cv.folds=3", "search.refit=true",
            "search.n_trials=4", "search.workers=1", "search.study_name=xor",
            "train.num_iterations=150",
            "train.eval_every=50", "search.space.model.hidden_units.depth_high=2"]
    env = {"MLFLOW_TRACKING_URI": ""}
    proc = run_cli("dnn-sweep", *args, cwd=tmp_path, env=env, check=0)
    assert "refit of trial" in proc.stdout and "test_accuracy=" in proc.stdout
    assert "space fitted to the data: model.hidden_units units 2..32 for n_x=2 inputs" \
        in proc.stdout
    run_cli("dnn-sweep", *args, cwd=tmp_path, env=env, check=0)  # resumed: nothing new
    client = MlflowClient(f"sqlite:///{tmp_path}/mlruns/mlflow.db")
    exp = client.get_experiment_by_name("xor")
    runs = client.search_runs([exp.experiment_id])
    looked_at_test = [r for r in runs if any(k.startswith("test_") for k in r.data.metrics)]
    assert len(looked_at_test) == 1
    (refit,) = looked_at_test
    assert refit.data.tags["refit"] == "true" and "mlflow.parentRunId" in refit.data.tags
    assert refit.data.params["data.val_fraction"] == "0.0"
    trials = [r for r in runs if "optuna.state" in r.data.tags]
    assert len(trials) == 4 and all("fold_1/val_cost" in r.data.metrics for r in trials)
    # the trials stopped early (a sweep's default); the refit trains its trial's best length
    assert all("early_stopping" in r.data.tags for r in trials)
    (chosen,) = [r for r in trials
                 if r.data.tags["optuna.trial_number"] == refit.data.tags["optuna.trial_number"]]
    best_iteration = int(chosen.data.metrics["best_iteration"])
    length = "num_iterations" if refit.data.params["train.batch_size"] == "None" else "num_epochs"
    assert refit.data.params[f"train.{length}"] == str(best_iteration + 1)
    assert refit.data.params["train.patience"] == "None"
    assert "early_stopping" not in refit.data.tags
    run_id = re.search(r"dnn-reproduce (\w+)", proc.stdout).group(1)
    repro = run_cli("dnn-reproduce", run_id, cwd=tmp_path, env=env, check=0)
    assert "the cost curves agree" in repro.stdout


@pytest.mark.slow
def test_refit_is_claimed_once_and_a_dead_launchers_claim_is_taken_over(tmp_path,
                                                                          npz_with_test):
    import os
    import socket
    import subprocess
    import sys

    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    args = ["data=npz", f"data.path={npz_with_test}", "search.n_trials=3", "search.workers=1",
            "search.study_name=xor",
            "train.num_iterations=100", "search.space.model.hidden_units.depth_high=2"]
    env = {"MLFLOW_TRACKING_URI": ""}
    run_cli("dnn-sweep", *args, cwd=tmp_path, env=env, check=0)  # no refit asked
    study = optuna.load_study(study_name="xor", storage=JournalStorage(
        JournalFileBackend(str(tmp_path / "mlruns" / "optuna.journal"))))
    best = study.best_trial.number
    client = MlflowClient(f"sqlite:///{tmp_path}/mlruns/mlflow.db")

    def refit_runs():
        runs = client.search_runs([client.get_experiment_by_name("xor").experiment_id])
        return [r for r in runs if r.data.tags.get("refit") == "true"]

    # Another launcher of this host, alive, is refitting: this one leaves it alone.
    study.set_user_attr("refit", {"trial": best, "owner": f"{socket.gethostname()}:{os.getpid()}"})
    proc = run_cli("dnn-sweep", *args, "search.refit=true", cwd=tmp_path, env=env, check=0)
    assert f"trial {best} is being refit by" in proc.stdout and refit_runs() == []
    # That launcher died before storing a result: the next sweep takes the refit over.
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    study.set_user_attr("refit", {"trial": best, "owner": f"{socket.gethostname()}:{gone.pid}"})
    proc = run_cli("dnn-sweep", *args, "search.refit=true", cwd=tmp_path, env=env, check=0)
    assert f"refit of trial {best}" in proc.stdout and len(refit_runs()) == 1
    assert study.user_attrs["refit"]["run_id"] == refit_runs()[0].info.run_id


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("batch_size", [None, 128])
def test_the_folds_stop_together_on_their_mean_and_keep_that_evaluation(method, batch_size):
    from dataclasses import asdict

    from dnn import ModelSettings, TrainSettings
    from dnn.data import load_dataset

    data = load_dataset("digits", seed=0)
    base = {**asdict(ModelSettings([16], "relu", "he")),
            **asdict(TrainSettings(learning_rate=0.05, optimizer="adam", num_iterations=300,
                                   num_epochs=40, batch_size=batch_size, eval_every=5))}
    length = "num_iterations" if batch_size is None else "num_epochs"
    seen = []
    cross_validate(data, base, 3, 1, 0, lambda i, c, mean, f: seen.append((i, mean)) if mean
                   else None, method=method)
    # the rule on the mean val_cost of the run to the end: patience 3, min_delta 0
    best, best_i, stale, stop = None, None, 0, None
    for i, mean in seen:
        stale = 0 if best is None or mean["val_cost"] < best else stale + 1
        if best is None or mean["val_cost"] < best:
            best, best_i = mean["val_cost"], i
        if stale >= 3:
            stop = i
            break
    assert stop is not None and stop < base[length] - 1
    stopping = []
    costs, finals, params, per_fold = cross_validate(
        data, {**base, "patience": 3}, 3, 1, 0, lambda *a: False, method=method,
        stopping=stopping)
    assert len(costs) == stop + 1 and stopping[0].best_iteration == best_i
    # each fold keeps its parameters of the best mean: a run to best_i + 1 ends with them
    ref = cross_validate(data, {**base, length: best_i + 1}, 3, 1, 0,
                         lambda *a: False, method=method)
    assert finals["val_cost"] == pytest.approx(best, rel=1e-12)
    assert finals == pytest.approx(ref[1], rel=1e-12)
    for k, v in ref[2].items():
        np.testing.assert_array_equal(params[k], v)
