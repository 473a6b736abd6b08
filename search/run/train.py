"""The single-run path: a composed config becomes one trained, tracked MLflow run.

dnn-train, every sweep trial and dnn-reproduce all go through train_run:
config -> check -> data -> (MLflow run) -> fit(callback) -> metrics/artifacts -> status.
"""
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from dnn import DivergenceError, evaluate, fit, predict_proba
from dnn.data import load_dataset
from dnn.ensemble import members
from dnn.settings import passes
from search.config import check_run_config, fit_kwargs, flatten, run_config
from search.config.fits import check_against_data
from search.progress import Progress
from search.run.baseline import run_baselines, split_params
from search.run.cv import cross_validate
from search.run.metrics import bootstrap_spread
from search.secrets import mask
from search.storage.retry import outage_reason
from search.tracking.runs import Tracker


class StopRun(Exception):
    """Raised from on_step to end a run early as KILLED (a pruned trial); status None: the
    run is left as another process closed it (a trial taken over while this one paused)."""

    status = "KILLED"


@dataclass
class RunResult:
    run_id: str
    costs: list
    metrics: dict
    parameters: dict = field(repr=False)
    folds: dict = field(default_factory=dict)      # {"fold_1": {"val_auc": ...}} under CV
    baselines: dict = field(default_factory=dict)  # {"val_cost": ...}: a model that learns nothing


def load_run_data(cfg):
    """The data set of cfg.data, and the split runs are evaluated on (val, else test)."""
    data = _dataset(OmegaConf.to_container(cfg.data, resolve=True))
    check_against_data(cfg, data)  # folds and the network's size, before any run exists
    if data.X_val is not None:
        return data, "val", (data.X_val, data.Y_val)
    if data.X_test is not None:
        return data, "test", (data.X_test, data.Y_test)
    return data, None, None


_last_data = [None, None]  # [data options, data set]: a sweep's trials share one data set


def _dataset(options):
    """load_dataset(**options), kept for the next run with the same options (a worker's
    next trial; runs leave their data set alone)."""
    if _last_data[0] != options:
        _last_data[:] = [None, load_dataset(**options)]
        _last_data[0] = options
    return _last_data[1]


def _save_artifacts(tracker, cfg, overrides, parameters, preprocess, costs, eval_points,
                    eval_split, folder):
    folder = Path(folder)
    # Artifacts are readable by whoever reads the store: no URL passwords in them.
    (folder / "config.yaml").write_text(mask(OmegaConf.to_yaml(cfg)))
    (folder / "overrides.yaml").write_text(
        OmegaConf.to_yaml(OmegaConf.create([mask(o) for o in overrides])))
    np.savez(folder / "parameters.npz", **parameters)
    tracker.save_history(folder)
    if cfg.tracking.plot:
        plot_costs(costs, eval_points, eval_split, folder / "cost_curve.png")
    tracker.log_artifacts(folder)
    if cfg.tracking.log_model and not cv_folds(cfg):  # a CV run has K networks: see its refit
        preprocess.save(folder / "preprocess.npz")  # what the network's inputs went through
        tracker.log_model(folder / "parameters.npz", folder / "preprocess.npz",
                          cfg.model.activation)


def plot_costs(costs, eval_points, eval_split, path):
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.13, top=0.96)  # tight_layout costs ~0.2 s
    ax.plot(costs, label="train_cost")
    if eval_points:
        ax.plot(*zip(*eval_points), "o-", ms=3, label=f"{eval_split}_cost")
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost")
    ax.legend()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def train_run(cfg, overrides=(), on_step=None, parent_run_id=None, tags=None, run_name=None,
              progress=True, experiment=None, on_start=None, checked=False, end_tags=None,
              before_end=None):
    """Train and track the run described by cfg; return a RunResult.

    The config is checked (unless checked: a run config its caller checked, as a sweep's
    worker does each trial's) and the data loaded before MLflow is touched, so bad input
    creates no run. on_step(iteration, cost, metrics) may raise StopRun (run ends
    KILLED); divergence and crashes end the run FAILED with the error as a tag.
    on_start(run_id) is called once the MLflow run exists; end_tags(error) (None when the
    run finished) gives tags sent with the run's last batch; before_end() is called once
    the run is trained, before it is closed FINISHED (it may raise StopRun too).
    """
    if not checked:
        cfg = run_config(cfg)
        check_run_config(cfg)
    data, eval_split, evaluation = load_run_data(cfg)
    if cv_folds(cfg):
        eval_split, evaluation = "val", None  # validated on the folds of the training data

    tracker = Tracker(cfg.tracking, experiment)
    run_tags = {"seed": cfg.train.seed, **(tags or {})}
    run_id = tracker.start(run_name, run_tags, parent_run_id)
    end_tags = end_tags or (lambda error: {})
    try:
        if on_start:
            on_start(run_id)
        result = _train_tracked(tracker, cfg, overrides, data, eval_split, evaluation, on_step,
                                progress)
        if before_end:
            before_end()
    except StopRun as e:
        if e.status:  # None: another process closed the run
            tracker.end(e.status, str(e) or "stopped", end_tags(e))
        raise
    except DivergenceError as e:
        tracker.end("FAILED", e, end_tags(e))
        raise
    except KeyboardInterrupt as e:
        tracker.end("KILLED", "interrupted", end_tags(e))
        raise
    except BaseException as e:
        tracker.end("FAILED", outage_reason(e) or f"{type(e).__name__}: {e}", end_tags(e))
        raise
    tracker.end("FINISHED", tags=end_tags(None))
    return result


class StepLogger:
    """The per-iteration hook of a tracked run: buffers metrics, keeps the evaluation
    points for the plot, shows progress, and hands the step to on_step (pruning)."""

    def __init__(self, tracker, cfg, eval_split, on_step, progress):
        self.tracker, self.eval_split, self.on_step = tracker, eval_split, on_step
        self.log_every, self.n = cfg.tracking.log_every, passes(cfg.train)
        self.networks = cfg.model.ensemble
        self.bar = Progress(self.n * self.networks, "iteration ") if progress else None
        tracker.plan_steps(self.n)
        self.eval_points = []

    def __call__(self, i, cost, metrics, per_fold=None):
        if i % self.log_every == 0 or i == self.n - 1:
            self.tracker.metric("train_cost", cost, i)
        for key, value in metrics.items():
            key = key.replace("val_", f"{self.eval_split}_", 1)
            self.tracker.metric(key, value, i)
            if key.endswith("_cost"):
                self.eval_points.append((i, value))
        for fold, fold_metrics in (per_fold or {}).items():
            for key, value in fold_metrics.items():
                self.tracker.metric(f"{fold}/{key}", value, i)
        if self.bar:
            self.bar.update(i + 1, self._network(0) + f"cost {cost:.6f}",
                            force=i == self.n * self.networks - 1)
        return self.on_step(i, cost, metrics) if self.on_step else False

    def later_network(self, k, i, cost):
        """The progress of network k >= 1 of an ensemble (its curve is not logged)."""
        if self.bar:
            done = k * self.n + i + 1
            self.bar.update(done, self._network(k) + f"cost {cost:.6f}",
                            force=done == self.n * self.networks)

    def _network(self, k):
        return f"network {k + 1}/{self.networks} " if self.networks > 1 else ""

    def close(self):
        if self.bar:
            self.bar.close()


def _train_tracked(tracker, cfg, overrides, data, eval_split, evaluation, on_step, progress):
    protocol = (cv_folds(cfg), OmegaConf.select(cfg, "cv.repeats") or 1, cfg.data.seed)
    tracker.log_params({**flatten(cfg), **split_params(data, *protocol)})
    tracker.log_dataset(cfg.data.name, data.X_train, data.Y_train, "training")
    log = StepLogger(tracker, cfg, eval_split, on_step, progress)
    kwargs = fit_kwargs(cfg)
    if eval_split != "val":
        kwargs["patience"] = None  # early stopping watches a validation split, never the test
    stopping = []
    try:
        folds = {}
        if cv_folds(cfg):
            costs, final, parameters, folds = cross_validate(
                data, kwargs, cfg.cv.folds, cfg.cv.repeats, cfg.data.seed, log, stopping=stopping)
        else:
            costs, final, parameters = _train_single(data, kwargs, evaluation, eval_split, log,
                                                     stopping)
    finally:
        log.close()
    step = len(costs) - 1
    logged_at_last_step = bool(log.eval_points) and log.eval_points[-1][0] == step
    if stopping:  # the final metrics are the best evaluation's, where training went on
        final["best_iteration"] = float(stopping[0].best_iteration)
        tracker.set_tags({"early_stopping": stopping[0].summary(step, passes(cfg.train))})
        logged_at_last_step = logged_at_last_step and stopping[0].best_iteration == step
    for key, value in final.items():
        if key in ("train_accuracy", "best_iteration", "ensemble_networks") \
                or key.endswith("_std") \
                or not logged_at_last_step:
            tracker.metric(key, value, step)
    baselines = run_baselines(data, *protocol).values
    for key, value in baselines.items():
        if np.isfinite(value):  # inf: a class the training part never saw
            tracker.metric(f"baseline_{key}", value, step)
    with tempfile.TemporaryDirectory() as tmp:
        _save_artifacts(tracker, cfg, overrides, parameters, data.preprocess, costs,
                        log.eval_points, eval_split, tmp)
    return RunResult(tracker.run_id, costs, final, parameters, folds, baselines)


def cv_folds(cfg):
    """K when the run is cross-validated (cfg.cv.folds), else None."""
    return OmegaConf.select(cfg, "cv.folds")


def _train_single(data, kwargs, evaluation, eval_split, log, stopping):
    left_out = []
    parameters, costs = fit(data.X_train, data.Y_train, **kwargs, validation=evaluation,
                            callback=log, stopping=stopping, left_out=left_out,
                            progress=log.later_network)
    activation = kwargs["activation"]
    train_metrics = evaluate(parameters, data.X_train, data.Y_train, activation)
    final = {"train_accuracy": train_metrics["accuracy"]}
    if kwargs.get("ensemble", 1) > 1:  # how many networks the mean is over, and why not N
        final["ensemble_networks"] = float(len(members(parameters)))
        log.tracker.set_tags({"ensemble_left_out": "; ".join(
            f"seed {seed}: {e}" for seed, e in left_out) or "none"})
    if evaluation is not None:
        final.update(evaluate(parameters, *evaluation, activation, f"{eval_split}_"))
        AL = predict_proba(evaluation[0], parameters, activation)
        final.update(bootstrap_spread(evaluation[1], AL, f"{eval_split}_"))
    return costs, final, parameters
