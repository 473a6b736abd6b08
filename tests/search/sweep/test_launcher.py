"""dnn-sweep on real temporary stores: counts, states, pruning, resume, workers, MLflow layout."""
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import optuna
import pytest
from helpers import run_cli
from mlflow import MlflowClient
from optuna.storages.journal import JournalFileBackend, JournalStorage

# A quick space: no iteration dimension, small networks, 200 iterations per trial.
FAST = ["~search.space.train.batch_size",
        "train.num_iterations=200", "train.eval_every=20",
        "search.space.model.hidden_units.depth_high=2",
        "search.space.model.hidden_units.units_high=8"]
TPE_MEDIAN = ["search.pruner.n_warmup_steps=20", "search.pruner.n_startup_trials=3",
              "search.sampler.n_startup_trials=4"]


def sweep(cwd, *args, check=0, presets=TPE_MEDIAN):
    return run_cli("dnn-sweep", *FAST, *presets, *args, cwd=cwd,
                   env={"MLFLOW_TRACKING_URI": ""}, check=check)


def load(cwd, name="planar-sweep"):
    storage = JournalStorage(JournalFileBackend(str(cwd / "mlruns" / "optuna.journal")))
    return optuna.load_study(study_name=name, storage=storage)


def runs_of(cwd, experiment="planar-sweep"):
    client = MlflowClient(f"sqlite:///{cwd}/mlruns/mlflow.db")
    exp = client.get_experiment_by_name(experiment)
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    parents = [r for r in runs if r.data.tags.get("dnnsweep.role") == "study"]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    return client, parents, children


STATUS = {"COMPLETE": "FINISHED", "PRUNED": "KILLED", "FAIL": "FAILED"}


def check_layout(cwd, n):
    study = load(cwd)
    trials = study.get_trials()
    assert len(trials) == n and all(t.state.is_finished() for t in trials)
    client, parents, children = runs_of(cwd)
    assert len(parents) == 1 and len(children) == n
    parent = parents[0]
    assert study.user_attrs["mlflow_parent_run_id"] == parent.info.run_id
    assert parent.info.status == "FINISHED" and "best_val_cost" in parent.data.metrics
    by_id = {r.info.run_id: r for r in children}
    for t in trials:
        run = by_id[t.user_attrs["mlflow_run_id"]]
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert run.data.tags["optuna.trial_number"] == str(t.number)
        assert run.data.tags["optuna.state"] == t.state.name
        assert run.info.status == STATUS[t.state.name]
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert "trials.csv" in artifacts
    return study, children


@pytest.mark.slow
def test_two_launchers_starting_one_new_study_together_make_one_parent_run(tmp_path):
    # Each launcher's workers start while it creates the parent run; the ask lock makes
    # 'find it or create it' atomic, so every trial of both ends up under one parent.
    with ThreadPoolExecutor(2) as pool:
        for done in [pool.submit(sweep, tmp_path, "search.n_trials=8", "search.workers=2",
                                 f"search.seed={seed}") for seed in (1, 2)]:
            done.result()
    study, children = check_layout(tmp_path, 8)
    assert len({t.user_attrs["owner"] for t in study.trials}) >= 3


@pytest.mark.slow
def test_the_parent_run_stays_running_while_another_launcher_has_trials(tmp_path):
    import os
    import socket

    sweep(tmp_path, "search.n_trials=2", "search.workers=1")
    study = load(tmp_path)
    other = study.ask()  # a trial of another launcher of this host, still in training
    other.set_user_attr("owner", f"{socket.gethostname()}:{os.getpid()}")
    proc = sweep(tmp_path, "search.n_trials=3", "search.workers=1")
    assert "still running elsewhere" in proc.stdout
    client, (parent,), _ = runs_of(tmp_path)
    assert parent.info.status == "RUNNING"  # not KILLED: that launcher closes it
    study.tell(other, 0.5)
    sweep(tmp_path, "search.n_trials=3", "search.workers=1")
    assert client.get_run(parent.info.run_id).info.status == "FINISHED"


@pytest.mark.slow
def test_sweep_runs_resumes_and_reports(tmp_path):
    proc = sweep(tmp_path, "search.n_trials=8", "search.workers=1")
    study, _ = check_layout(tmp_path, 8)
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert f"best {min(5, len(complete))} trial(s) by val_cost" in proc.stdout  # top_k: 5
    best = min(complete, key=lambda t: t.value)
    assert f"dnn-reproduce {best.user_attrs['mlflow_run_id']}" in proc.stdout
    # Resume: the same command with a larger total adds only the missing trials.
    sweep(tmp_path, "search.n_trials=12", "search.workers=1")
    study, children = check_layout(tmp_path, 12)
    assert sorted(int(r.data.tags["optuna.trial_number"]) for r in children) == list(range(12))
    sweep(tmp_path, "search.n_trials=12", "search.workers=1")
    check_layout(tmp_path, 12)
    # The summary's command re-runs the best trial identically.
    run_id = re.search(r"dnn-reproduce (\w+)", proc.stdout).group(1)
    repro = run_cli("dnn-reproduce", run_id, cwd=tmp_path, env={"MLFLOW_TRACKING_URI": ""},
                    check=0)
    assert "the cost curves agree" in repro.stdout


@pytest.mark.slow
def test_pruning_stops_bad_trials_early(tmp_path):
    sweep(tmp_path, "search.n_trials=14", "search.workers=1",
          "search.space.train.learning_rate.low=1e-5")
    study = load(tmp_path)
    pruned = [t for t in study.trials if t.state.name == "PRUNED"]
    assert pruned, "the median pruner never pruned"
    for t in pruned:
        # steps: the percent of the 200 iterations done; stopped before the last one
        assert max(t.intermediate_values) < 100 and min(t.intermediate_values) >= 0
    _, _, children = runs_of(tmp_path)
    killed = [r for r in children if r.info.status == "KILLED"]
    assert len(killed) == len(pruned)


@pytest.mark.slow
def test_two_workers_share_one_study(tmp_path):
    sweep(tmp_path, "search.n_trials=10", "search.workers=2")
    study, children = check_layout(tmp_path, 10)
    assert len({t.user_attrs["owner"] for t in study.trials}) == 2


@pytest.mark.slow
def test_multi_objective_and_grid_presets(tmp_path):
    sweep(tmp_path, "search=multi_objective", "search.n_trials=4", "search.workers=1", presets=[])
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "mlruns" / "optuna.journal")))
    pareto = optuna.load_study(study_name="planar-pareto", storage=storage)
    assert len(pareto.directions) == 2 and len(pareto.trials) == 4
    grid = ["search/sampler=grid", "search.study_name=grid", "~search.space.train.learning_rate",
            "~search.space.train.lambd", "~search.space.model.hidden_units",
            "search.space.train.optimizer.choices=[gd,adam]",
            "search.space.model.activation.choices=[relu,tanh]", "search.n_trials=4",
            "search.workers=1", "search/pruner=none"]
    sweep(tmp_path, *grid, presets=[])
    study = optuna.load_study(study_name="grid", storage=storage)
    seen = {(t.params["train.optimizer"], t.params["model.activation"]) for t in study.trials}
    assert len(seen) == 4


@pytest.fixture
def npz_with_test_split(tmp_path):
    """Two noisy blobs with a test split of their own."""

    rng = np.random.RandomState(0)
    y = rng.randint(0, 2, 260)
    X = rng.randn(260, 2) + 1.5 * y[:, None]
    path = tmp_path / "blobs.npz"
    np.savez(path, X=X[:200], y=y[:200], X_test=X[200:], y_test=y[200:])
    return ["data=npz", f"data.path={path}", "search.study_name=blobs",
            "tracking.log_model=false"]


@pytest.mark.slow
def test_a_time_budget_is_a_normal_end_that_refits_and_resumes(tmp_path, npz_with_test_split):
    args = [*npz_with_test_split, "search.workers=1", "search.refit=true"]
    first = sweep(tmp_path, *args, "search.n_trials=1")  # a first trial, whatever the load
    # A budget that runs out at once: the study ends at its time budget, not its total.
    proc = sweep(tmp_path, *args, "search.n_trials=500", "search.timeout=1")
    assert "stopped at the time budget" in proc.stdout
    n_first = len(load(tmp_path, "blobs").trials)
    assert 0 < n_first < 500
    client, (parent,), children = runs_of(tmp_path, "blobs")
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["dnnsweep.stopped"] == "timeout"
    refits = [r for r in children if r.data.tags.get("refit") == "true"]
    assert len(refits) == 1 and "test_accuracy" in refits[0].data.metrics
    assert refits[0].info.status == "FINISHED"
    # the refit averages search.refit_ensemble networks (5 by default), stored in one file
    assert refits[0].data.params["model.ensemble"] == "5"
    assert "5 networks from seeds 1-5 averaged (search.refit_ensemble)" in \
        first.stdout + proc.stdout
    with np.load(client.download_artifacts(refits[0].info.run_id, "parameters.npz",
                                           str(tmp_path))) as f:
        assert {k.split("/")[0] for k in f.files if "/" in k} == {"1", "2", "3", "4"}
    # The same command goes on with the study, under the same parent run.
    sweep(tmp_path, *args, f"search.n_trials={n_first + 1}")
    assert len(load(tmp_path, "blobs").trials) == n_first + 1
    _, (again,), _ = runs_of(tmp_path, "blobs")
    assert again.info.run_id == parent.info.run_id and again.info.status == "FINISHED"
    assert again.data.tags["dnnsweep.stopped"] == "n_trials"


def interrupted_study():
    """A real in-memory study as a re-run after Ctrl-C finds it: 3 complete trials, one
    interrupted (FAIL) whose retry is queued, 2 warm-start copies of another study's."""
    from optuna.distributions import FloatDistribution
    from optuna.trial import TrialState, create_trial

    from search import links

    study = optuna.create_study()
    dist = {"x": FloatDistribution(0, 1)}
    for i, state in enumerate([TrialState.COMPLETE] * 3 + [TrialState.FAIL]):
        study.add_trial(create_trial(params={"x": i / 10}, distributions=dist, state=state,
                                     value=i / 10 if state == TrialState.COMPLETE else None))
    for n in (7, 8):
        study.add_trial(create_trial(params={"x": 0.5}, distributions=dist, value=0.5,
                                     user_attrs={links.WARM_START: f"old#{n}"}))
    links.enqueue_retry(study, study.trials[3])
    return study


def test_a_rerun_after_ctrl_c_says_it_resumes_and_counts_the_retry_once():
    from omegaconf import OmegaConf

    from search.study.study import trained_finished
    from search.sweep.watch import progress_line, resume_line

    study = interrupted_study()
    search = OmegaConf.create({"n_trials": 4})
    assert resume_line(study, search) == (f"study {study.study_name!r}: resuming at 3/4 "
                                          "finished trials; 1 interrupted trial(s) retried "
                                          "first")
    done, text = progress_line(study, ["val_cost"])
    assert done == trained_finished(study) == 3
    assert text == ("best val_cost 0 (#0) | complete 3  pruned 0  failed 0  running 0  "
                    "retried 1  warm-start 2")
    # the retry runs and completes: 4/4, the interrupted trial still counted once
    retry = study.ask()
    study.tell(retry, 0.05)
    done, text = progress_line(study, ["val_cost"])
    assert done == trained_finished(study) == 4
    assert "complete 4  pruned 0  failed 0  running 0  retried 1  warm-start 2" in text


@pytest.mark.slow
def test_a_finished_study_rerun_shows_its_results_and_names_ignored_settings(tmp_path):
    first = sweep(tmp_path, "search.n_trials=2", "search.workers=1", "search.refit=true",
                  "tracking.log_model=false")
    # the long steps after the last trial say what they do; the refit shows its iterations
    lines = first.stdout.splitlines()
    refit = next(i for i, line in enumerate(lines) if line.startswith("refit: trial"))
    assert any("the verdict against a model that learns nothing" in line
               for line in lines[refit:])
    assert any("trials.csv, plots and report.html" in line for line in lines[refit:])
    # the refit's five networks of 200 iterations each, the last one's at the end
    assert re.search(r"^iteration 1000/1000 \| .* \| network 5/5 cost ", first.stderr,
                     re.M), first.stderr
    again = sweep(tmp_path, "search.n_trials=2", "search.workers=1", "search.refit=true",
                  "tracking.log_model=false", "search/sampler=random", presets=[])
    assert "already has 2 finished trials, n_trials=2: nothing to run" in again.stdout
    assert "best 2 trial(s) by val_cost" in again.stdout
    assert re.search(r"^refit of trial \d+ on all training data: MLflow run \w+",
                     again.stdout, re.M)
    assert re.search(r"^report: file://.*/report\.html$", again.stdout, re.M)
    assert "search.sampler._target_=optuna.samplers.RandomSampler (the study's: " \
           "optuna.samplers.TPESampler)" in again.stderr
    assert "not used, since nothing runs" in again.stderr
    assert "iteration" not in again.stderr, "nothing was trained"
