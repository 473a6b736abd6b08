"""The `search` group of dnn-sweep: the study, its sampler, pruner, space and workers."""
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from omegaconf import OmegaConf

from dnn.metrics import SCORES
from search.config.cv import CVSchema, check_cv
from search.config.errors import ConfigError
from search.config.launcher import check_launcher
from search.config.model import MAX_ENSEMBLE
from search.config.names import MODEL_NAME, STUDY_NAME
from search.config.rules import SEED, Flag, Integer, OneOf, Positive, Text, check_rules

MAX_WORKERS = 4 * (os.cpu_count() or 1)  # worker processes on one machine
MAX_LAUNCHED = 1024  # workers a cluster engine starts (search/launcher: slurm, dask)
DIRECTIONS = ("minimize", "maximize")
EXTRA_METRICS = ("n_parameters", "train_seconds")
# The scores a study can select on: every score of the score table on the validation split,
# and the training accuracy; each one's entry says which direction makes it better.
SELECTABLE = {**{f"val_{name}": score for name, score in SCORES.items()},
              "train_accuracy": SCORES["accuracy"]}
METRICS = (*SELECTABLE, *EXTRA_METRICS)


@dataclass
class NarrowSchema:
    """search.narrow_from: how a space is narrowed from another study's best trials."""
    top: float = 0.2      # the fraction of complete trials the new ranges are measured on (>= 3)
    margin: float = 0.25  # widen each range by this fraction of its span on each side


@dataclass
class ConfirmSchema:
    """search.confirm: after the study, the top_k best configurations are re-trained with
    `seeds` new seeds each under the same protocol; the refit takes the best mean."""
    top_k: int = 0   # configurations to confirm (0: off)
    seeds: int = 3   # new seeds per configuration (>= 2: a mean and a 95% interval)


CONFIRM_RULES = {"top_k": Integer(0, 1000), "seeds": Integer(2, 1000)}


@dataclass
class ReportSchema:
    color_by: Optional[str] = None  # the parameter colouring the cost curves (null: most important)


@dataclass
class SearchSchema:
    study_name: str = "${data.name}-sweep"  # also the MLflow experiment of the study's runs
    storage: Optional[str] = None  # null: the local journal file mlruns/optuna.journal; a
    #                                journal file path; or an RDB URL (postgresql+psycopg2://...)
    n_trials: int = 60             # finished trials (complete + pruned + failed) to reach
    timeout: Optional[float] = None  # seconds of wall time for this invocation (null: none)
    workers: int = 2               # workers: processes on this machine, or tasks the
    #                                launcher (search/launcher) starts on a cluster
    metric: Any = "val_cost"       # or val_accuracy, val_balanced_accuracy, val_auc (ROC AUC),
    #                                train_accuracy, n_parameters, train_seconds; or a list, for
    #                                several objectives (with as many directions)
    direction: Any = "minimize"    # maximize for accuracies and val_auc
    seed: int = 0                  # seeds the sampler
    first_trial: str = "sampled"   # a new study's first trial: sampled, or usual (Adam at
    #                                1e-3, ReLU, one wide layer, batches of 64, where the space
    #                                allows them: search.study.first_trial)
    retry_failed: bool = True      # a trial whose worker died or was interrupted is retried once
    heartbeat_interval: int = 5    # seconds between a running trial's heartbeats (RDB storages)
    grace_period: int = 20         # seconds without a heartbeat before a trial counts as dead
    cv: CVSchema = field(default_factory=CVSchema)  # each trial's score: the mean over K folds
    refit: bool = False            # after the study, retrain the best config on all training
    #                                data and evaluate it once on the test split
    refit_ensemble: int = 5        # networks the refit trains from seeds train.seed, +1, ...
    #                                and averages (its model.ensemble; 1: one network)
    register: Optional[str] = "${search.study_name}"  # the refit's model becomes a new version
    #                                of this registered model, alias "champion" (null: none)
    log_trial_models: bool = False  # log each trial's (and confirmation run's) network as an
    #                                MLflow model too; by default only the refit's is (every
    #                                run keeps parameters.npz: dnn-reproduce re-runs it)
    top_k: int = 5                 # best trials shown in the summary
    confirm: ConfirmSchema = field(default_factory=ConfirmSchema)  # re-train the best with
    #                                new seeds; the refit takes the best confirmed mean
    patience: Optional[int] = None  # stop once this many trials in a row finished without
    #                                improving the best by more than min_delta (null: off)
    min_delta: float = 0.0         # the improvement patience asks for (in the metric's units)
    narrow_from: Optional[str] = None  # a study name or its parent run's MLflow id: a new study
    #                                over a space narrowed from its best trials
    narrow: NarrowSchema = field(default_factory=NarrowSchema)
    report: ReportSchema = field(default_factory=ReportSchema)
    sampler: Any = None            # search/sampler: an optuna.samplers class and its options
    pruner: Any = None             # search/pruner: an optuna.pruners class and its options
    space: Any = None              # search/space: the dimensions (search.config.space)
    launcher: Any = None           # search/launcher: where the workers run (search.config.launcher)


RULES = {
    "study_name": STUDY_NAME, "storage": Text(optional=True), "n_trials": Integer(1, 10**6),
    "timeout": Positive(optional=True), "workers": Integer(1, MAX_LAUNCHED), "seed": SEED,
    "first_trial": OneOf(("usual", "sampled")),
    "retry_failed": Flag(), "heartbeat_interval": Integer(1, 3600),
    "grace_period": Integer(1, 86400), "refit": Flag(), "top_k": Integer(1, 1000),
    "refit_ensemble": Integer(1, MAX_ENSEMBLE),
    "register": Text(optional=True), "log_trial_models": Flag(),
}  # patience, min_delta, narrow.*, report.color_by: search.study.stopping, narrow_from, insight


def as_list(value):
    """search.metric or search.direction as a list (one objective: a list of one)."""
    return list(value) if isinstance(value, (list, tuple)) or OmegaConf.is_list(value) \
        else [value]


def check_search(search):
    """Ranges and choices of the search group's own keys (the space: search.config.space)."""
    if OmegaConf.is_config(search):
        search = OmegaConf.to_container(search, resolve=True)
    check_rules(search, RULES, "search")
    check_cv(search["cv"], "search.cv")
    check_rules(search["confirm"], CONFIRM_RULES, "search.confirm")
    launcher = check_launcher(search["launcher"] or {"name": "local"})
    if launcher["name"] == "local" and search["workers"] > MAX_WORKERS:
        raise ConfigError(f"search.workers={search['workers']}: must be at most {MAX_WORKERS} "
                          "processes on this machine (search/launcher=local); a cluster "
                          f"launcher (search/launcher=slurm or dask) starts up to {MAX_LAUNCHED}")
    if search["refit"]:  # the refit's model is registered under search.register
        check_rules(search, {"register": MODEL_NAME}, "search")
    if search["grace_period"] <= search["heartbeat_interval"]:
        raise ConfigError(f"search.grace_period={search['grace_period']}: must be greater than "
                          f"search.heartbeat_interval={search['heartbeat_interval']}")
    metrics, directions = as_list(search["metric"]), as_list(search["direction"])
    if len(metrics) != len(directions):
        raise ConfigError(f"search.metric {metrics} and search.direction {directions} must "
                          "have the same length")
    for d in directions:
        if d not in DIRECTIONS:
            raise ConfigError(f"search.direction={d!r}: must be one of {', '.join(DIRECTIONS)}")
    for m, d in zip(metrics, directions):
        if m not in METRICS:
            raise ConfigError(f"search.metric={m!r}: must be one of {', '.join(METRICS)}")
        score = SELECTABLE.get(m)
        if score is not None and score.direction != d:
            raise ConfigError(f"search.direction={d!r} for search.metric={m!r} "
                              f"({score.meaning}): "
                              f"{'higher' if score.higher_is_better else 'lower'} is better; "
                              f"set search.direction={score.direction}")
    storage = search["storage"]
    if storage and "://" not in storage and Path(storage).expanduser().is_dir():
        raise ConfigError(f"search.storage={storage!r}: is a folder; must be null (the local "
                          "journal file), a journal file path, or an RDB URL")
