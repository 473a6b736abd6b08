"""The Optuna side of a sweep: sampler and pruner from config, the study, and one worker's
loop of trials, each a tracked train_run."""
import optuna
from omegaconf import OmegaConf

from search import links
from search.config import (
    ConfigError,
    base_run_config,
    check_no_foreign_targets,
    check_run_config,
    run_config,
)
from search.config.search import as_list, check_search
from search.run.train import StopRun
from search.storage.stores import check_storage, make_storage
from search.study.narrow_from import check_narrow_config
from search.study.space import check_color_by, check_space
from search.study.stopping import check_stopping_config
from search.tracking.client import close_run

FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED,
            optuna.trial.TrialState.FAIL)


class PrunedRun(StopRun):
    status = "KILLED"


def quiet_optuna():
    """Our progress line replaces Optuna's per-trial log lines and experimental notes."""
    import warnings

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def _check_option_types(node):
    """A sampler or pruner option of the wrong type (n_startup_trials=abc) is accepted by
    the constructor and fails only in the middle of the sweep: check it against the type
    of the constructor's default."""
    import inspect

    from hydra.utils import get_class

    try:
        params = inspect.signature(get_class(node._target_)).parameters
    except Exception:  # noqa: BLE001 - an unknown class is reported by _instantiate
        return
    for key, value in node.items():
        default = params[key].default if key in params else None
        if key.startswith("_") or value is None or default is None:
            continue
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, (int, float)):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) \
                and (isinstance(value, int) or not isinstance(default, int))
        else:
            continue
        if not ok:
            raise ConfigError(f"{node._target_.rsplit('.', 1)[-1]} option {key}={value!r}: "
                              f"expected {type(default).__name__}")


def _instantiate(node, **extra):
    from hydra.utils import instantiate

    check_no_foreign_targets(node)
    _check_option_types(node)
    try:
        return instantiate(node, **extra)
    except Exception as e:  # noqa: BLE001 - reported as a config error, one line
        cause = e.__cause__ or e
        raise ConfigError(f"cannot create {node._target_}: {str(cause).splitlines()[0]}") from None


def make_sampler(search, dims):
    if search.sampler._target_ == "optuna.samplers.GridSampler":
        grid = {p: s["choices"] for p, s in dims.items() if s["type"] == "categorical"}
        if len(grid) != len(dims):
            raise ConfigError("the grid sampler needs every dimension of search.space to be "
                              "categorical (type: categorical, choices: [...])")
        return _instantiate(search.sampler, search_space=grid)
    return _instantiate(search.sampler)


def check_sweep_config(cfg):
    """Everything a sweep needs, checked before any store is touched; returns the dims."""
    search = cfg.search
    check_search(search)
    check_run_config(cfg, extra_groups=("search",))
    dims = check_space(search.space, base_run_config(cfg), check_run_config)
    check_run_config(base_run_config(cfg))
    check_storage(search.storage)  # a file that is not a journal: before data and stores
    if OmegaConf.select(cfg, "tracking.register"):
        raise ConfigError(f"tracking.register={cfg.tracking.register}: a sweep would register "
                          "every trial's model; allowed: null in dnn-sweep (its refit's model "
                          "is registered under search.register)")
    if not cfg.search.cv.folds and not cfg.data.val_fraction:
        raise ConfigError("data.val_fraction=0: a sweep selects on a validation split: set "
                          "data.val_fraction > 0 or search.cv.folds (the test split is never "
                          "used to choose)")
    try:
        check_stopping_config(search)
        check_narrow_config(search)
        check_color_by(search, dims)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    make_sampler(search, dims), _instantiate(search.pruner)  # fail early on bad presets
    return dims


def open_study(cfg, dims):
    """Create the study, or load it when it exists (resume, or another worker's)."""
    search = cfg.search
    storage = make_storage(search.storage, search.heartbeat_interval, search.grace_period,
                           on_stale_trial=lambda study, trial: close_dead_trial(
                               study, trial, links.WORKER_DIED, cfg))
    directions = as_list(search.direction)
    try:
        study = optuna.create_study(storage=storage, study_name=search.study_name,
                                    sampler=make_sampler(search, dims),
                                    pruner=_instantiate(search.pruner), directions=directions,
                                    load_if_exists=True)
    except Exception as e:  # noqa: BLE001 - an unreachable database, for one
        raise ConfigError(f"cannot open study {search.study_name!r}: "
                          f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    existing = [d.name.lower() for d in study.directions]
    if existing != directions:
        raise ConfigError(f"study {search.study_name!r} exists with direction(s) {existing}, "
                          f"not {directions}: choose another search.study_name, or add "
                          f"search.direction={existing[0] if len(existing) == 1 else existing}"
                          " to join it")
    metrics = as_list(search.metric)
    # Only a new study's: another metric on an existing one is refused by its definition.
    if study.metric_names is None:  # axis labels of optuna-dashboard and Optuna's plots
        study.set_metric_names(metrics)
    return links.bind(study, storage)


def counts(study):
    trials = study.get_trials(deepcopy=False)
    by_state = {s: 0 for s in optuna.trial.TrialState}
    for t in trials:
        by_state[t.state] += 1
    return by_state


def started(study):
    """Trials that count toward n_trials or run now (enqueued retries do not, yet). A
    trial retried after its worker died or was interrupted is replaced by its retry: it
    does not count, so that the retry still runs when the other trials reach n_trials."""
    trials = study.get_trials(deepcopy=False)
    replaced = links.replaced(trials)
    return sum(1 for t in trials
               if t.state != optuna.trial.TrialState.WAITING and t.number not in replaced
               and not links.warm_start_source(t))


def trained_finished(study):
    """Finished trials that count toward search.n_trials: trained by this study (not
    warm-start copies of another study's trials), and not replaced by their retry (as in
    started: an interrupted trial counts once, as its retry)."""
    trials = study.get_trials(deepcopy=False)
    replaced = links.replaced(trials)
    return sum(1 for t in trials if t.state in FINISHED and t.number not in replaced
               and not links.warm_start_source(t))


def close_dead_trial(study, trial, reason, cfg):
    """After trial was failed (its worker died or was interrupted): retry it once, then close
    its MLflow run (FAILED, also one its worker had closed FINISHED before it could record
    the trial). The retry comes first: the trial is failed once, by one process, so a run
    store that fails here must not cost the retry; a run left RUNNING is closed at the
    study's end (close_failed_trial_runs)."""
    if cfg.search.retry_failed:
        links.enqueue_retry(study, trial)
    run_id = links.trial_run_id(trial)
    if run_id:
        close_run(cfg.tracking, run_id, "FAILED", reason, {"optuna.state": "FAIL"},
                  closing=("FINISHED",))


def close_failed_trial_runs(study, cfg):
    """Close FAILED the MLflow runs that FAIL trials left RUNNING: a trial failed as dead
    or interrupted while its run store could not be reached (close_dead_trial raised after
    the fail). Only those trials are read again: a trial that failed in its own worker (a
    diverging training) closed its own run. Returns their number."""
    closed = 0
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.FAIL,)):
        run_id = links.trial_run_id(t)
        dead = links.fail_reason(t) in (links.WORKER_DIED, links.INTERRUPTED)
        if run_id and dead and close_run(cfg.tracking, run_id, "FAILED", links.fail_reason(t),
                                {"optuna.state": "FAIL"}):
            closed += 1
    return closed


def recover_dead_trials(study, cfg):
    """Fail RUNNING trials whose worker died: a stale heartbeat (RDB storages, Optuna's
    fail_stale_trials, which calls close_dead_trial through the storage's callback), or an
    owner that is a dead process of this host (every storage)."""
    storage = links.storage_of(study)
    try:
        if getattr(storage, "heartbeats_trustworthy", lambda: False)():
            optuna.storages.fail_stale_trials(study)
    except Exception:  # noqa: BLE001 - the database is down: check again later
        pass
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        if links.has_dead_local_owner(t):
            failed = links.fail_trial(study, t.number, links.WORKER_DIED)
            if failed is not None:
                close_dead_trial(study, failed, links.WORKER_DIED, cfg)
