"""One sweep worker: ask a trial, train it as a tracked run, tell the result; repeat."""
import contextlib
import time

import numpy as np
import optuna
from omegaconf import OmegaConf

from dnn import DivergenceError
from dnn.settings import passes
from search import links
from search.config import ConfigError, check_run_config
from search.console import logger, show_notes
from search.run.metrics import SELECTION_METRICS
from search.run.train import StopRun, train_run
from search.storage.diskfull import DiskFull, is_disk_full
from search.storage.locks import ask_lock
from search.storage.owners import Heartbeat
from search.storage.retry import outage_reason
from search.storage.urls import is_shared
from search.study import space as space_mod
from search.study.stopping import stop_reason
from search.study.study import (
    PrunedRun,
    as_list,
    base_run_config,
    make_sampler,
    open_study,
    quiet_optuna,
    recover_dead_trials,
    started,
)
from search.sweep.budget import SearchClock, percent_step
from search.sweep.record import (
    Unrecorded,
    interrupted,
    left_unrecorded,
    patiently,
    tell,
)
from search.sweep.signals import STOP, stop_on_signals, stop_when_launcher_dies
from search.tracking.client import close_run, freeze_imported_heap

FOLD_SCORES_KEY = "fold_scores"  # {"fold_1": {"val_auc": ...}, ...} of a cross-validated trial


def fold_scores(folds):
    """The validation scores of each fold (what trials and baselines are compared on)."""
    return {name: {k: v for k, v in m.items() if k in SELECTION_METRICS}
            for name, m in folds.items()}


class Interrupted(PrunedRun):
    """Ends the trial in training at the next iteration after Ctrl-C / SIGTERM."""

    status = "KILLED"


class LostTrial(StopRun):
    """This worker lost its trial: while it was paused (SIGSTOP, a frozen machine) past the
    grace period, another process failed it, closed its run and queued its retry. Nothing
    more is written to either."""

    status = None


def trial_values(result, metrics, seconds):
    extra = {"n_parameters": float(sum(p.size for p in result.parameters.values())),
             "train_seconds": seconds}
    return [result.metrics[m] if m in result.metrics else extra[m] for m in metrics]


def pruning_hook(trial, metric, can_prune, lost=None, clock=None, ceiling=None):
    """on_step of a trial: stops it at Ctrl-C, once lost, when clock (a SearchClock) ends the
    search (PRUNED), and when pruned (steps: percent of its ceiling: search.sweep.budget).
    Past 100 passes several passes share a percent: the first of them is reported (Optuna
    ignores a step reported again, with a warning per pass)."""
    reported = [-1]  # the last step reported

    def on_step(i, cost, metrics):
        if STOP.is_set():
            raise Interrupted("interrupted")
        if clock is not None and clock.passed():
            raise PrunedRun(f"stopped at iteration {i}: search.timeout reached")
        if lost is not None and lost.is_set():
            raise LostTrial()
        step = percent_step(i, ceiling) if ceiling else i
        if can_prune and metric in metrics and step > reported[0]:
            trial.report(metrics[metric], step)
            reported[0] = step
            if trial.should_prune():
                raise PrunedRun(f"pruned at iteration {i}")
        return False
    return on_step


def check_sampled(trial_cfg, values):
    """The groups that hold sampled values, checked (ConfigError naming the key): the rest
    of a trial's config is the study's, checked once when the sweep started."""
    groups = {path.split(".")[0] for path in values}
    check_run_config(OmegaConf.create({g: trial_cfg[g] for g in groups if g in trial_cfg}))


def state_tags(error):
    """The Optuna state a trial's run ends in, as the tag its last batch carries: COMPLETE
    (error None), PRUNED or FAIL; none for an interrupted trial (closed as dead)."""
    if isinstance(error, (Interrupted, KeyboardInterrupt)):
        return {}
    state = (optuna.trial.TrialState.COMPLETE if error is None else
             optuna.trial.TrialState.PRUNED if isinstance(error, PrunedRun) else
             optuna.trial.TrialState.FAIL)
    return {STATE_TAG: state.name}


STATE_TAG = "optuna.state"


def still_running(study, trial):
    """Raise LostTrial when another process has ended trial (this one was paused); the
    check waits for the database (the trial is trained)."""
    with patiently(study, trial):
        if links.frozen_trial(study, trial.number).state.is_finished():
            raise LostTrial()


def run_trial(study, trial, cfg, dims, base_overrides, parent_run_id, base=None, lost=None,
              clock=None):
    """Train one trial; True when the sampler has no more points to try. KeyboardInterrupt
    propagates after the trial is closed (FAIL, retried once on resume) and its run KILLED.
    base: base_run_config(cfg), made once per worker. lost: set (by the heartbeat) once
    another process failed the trial: it stops quietly. clock (a SearchClock): the end
    of the search under search.timeout, which stops the trial PRUNED."""
    search = cfg.search
    metrics = as_list(search.metric)
    links.mark_owner(trial)
    run_ids = []

    def on_start(run_id):
        run_ids.append(run_id)
        links.set_trial_run(trial, run_id)

    tags = {"optuna.study": study.study_name, "optuna.trial_number": trial.number}
    # Each report is a storage write (~5 ms on the journal): skip them when nothing prunes.
    can_prune = len(metrics) == 1 and not isinstance(study.pruner, optuna.pruners.NopPruner)
    state, values_out, reason = optuna.trial.TrialState.FAIL, None, None
    finished = False  # train_run returned: its run ended tagged COMPLETE
    retry = False
    start = time.perf_counter()
    try:
        # Sampling is part of the trial: a dimension Optuna cannot sample (high=inf), or
        # whose kind changed since the study began, fails this trial with its reason.
        values = space_mod.suggest(trial, dims)
        trial_cfg = space_mod.apply_values(base or base_run_config(cfg), values)
        check_sampled(trial_cfg, values)
        on_step = pruning_hook(trial, metrics[0], can_prune, lost, clock, passes(trial_cfg.train))
        result = train_run(trial_cfg, [*base_overrides, *space_mod.as_overrides(values)],
                           on_step=on_step, parent_run_id=parent_run_id, tags=tags,
                           run_name=f"trial-{trial.number}", progress=False, on_start=on_start,
                           checked=True, end_tags=state_tags,
                           before_end=lambda: still_running(study, trial))
        finished = True
        values_out = trial_values(result, metrics, seconds := time.perf_counter() - start)
        with patiently(study, trial):  # a trained trial's result waits for the database
            links.set_trial_metrics(trial, result.metrics)
            links.set_trial_effort(trial, seconds, len(result.costs))
            if result.folds:  # each fold's scores: the verdict compares trials fold by fold
                trial.set_user_attr(FOLD_SCORES_KEY, fold_scores(result.folds))
        state = optuna.trial.TrialState.COMPLETE
    except (LostTrial, optuna.exceptions.UpdateFinishedTrialError):
        return _lost(trial)
    except Unrecorded as e:
        left_unrecorded(e, cfg, run_ids)
        raise KeyboardInterrupt from None
    except (Interrupted, KeyboardInterrupt):
        interrupted(study, trial, cfg)
        raise KeyboardInterrupt from None
    except PrunedRun as e:
        state, reason = optuna.trial.TrialState.PRUNED, str(e)
    except (DivergenceError, ConfigError, ValueError, FloatingPointError) as e:
        reason = str(e)
    except DiskFull:
        raise  # the sweep stops; re-running it once there is space closes this trial
    except Exception as e:  # noqa: BLE001 - a crash inside one trial: record it, go on
        if is_disk_full(e):
            raise DiskFull(getattr(e, "filename", None)) from None
        retry = outage_reason(e) is not None and cfg.search.retry_failed
        reason = outage_reason(e) or f"{type(e).__name__}: {e}"
    if finished and state != optuna.trial.TrialState.COMPLETE:
        # Its run ended FINISHED, but the trial's values could not be read from it.
        close_run(cfg.tracking, run_ids[0], "FAILED", reason, {STATE_TAG: state.name},
                  closing=("FINISHED",))
    try:
        with patiently(study, trial):
            exhausted = tell(study, trial, state, values_out, reason)
    except optuna.exceptions.UpdateFinishedTrialError:
        return _lost(trial)
    except Unrecorded as e:
        left_unrecorded(e, cfg, run_ids)
        raise KeyboardInterrupt from None
    if retry:  # failed by the outage, not by its parameters: tried once more
        with patiently(study, trial):
            links.enqueue_retry(study, trial)
    return exhausted


def _lost(trial):
    logger("sweep").info(f"trial {trial.number} was ended by another process while this "
                         "worker was paused: left as it is")
    return False


def distinct_sampler_seed(cfg, slot):
    """The same sampler seed in every worker would sample the same "random" start-up
    trials again: offset it by the worker's slot in the study (search.links: unique
    among all workers that ever joined it, in any launcher), and for a study shared by
    several machines (an RDB storage, which may lack a shared lock) by a hash of the host
    name as well. The study's first worker keeps the seed as given."""
    import socket
    import zlib

    seed = OmegaConf.select(cfg, "search.sampler.seed")
    if not isinstance(seed, int):
        return cfg
    if is_shared(cfg.search.storage) and slot:
        seed += zlib.crc32(socket.gethostname().encode()) % 100_000
    cfg = OmegaConf.create(OmegaConf.to_container(cfg, resolve=True))  # the caller's stays
    cfg.search.sampler.seed = (seed + slot) % 2**32
    return cfg


def worker_loop(cfg, dims, base_overrides, deadline=None, threads=None, index=0):
    """Run trials until the study has search.n_trials of them (or its search ends under the
    deadline, time.time() + search.timeout: search.sweep.budget); index is the worker's rank
    among this machine's workers (its sampler stream: distinct_sampler_seed)."""
    if threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(threads)
    np.seterr(all="ignore")
    quiet_optuna()
    search = cfg.search
    study = open_study(cfg, dims)
    seeded = distinct_sampler_seed(cfg, links.next_worker_slot(study, ask_lock(search.storage)))
    if seeded is not cfg:
        study.sampler = make_sampler(seeded.search, dims)
    parent_run_id = parent_run_of(study)
    base = base_run_config(cfg)  # what every trial of this worker starts from
    clock = SearchClock(study, search, deadline)
    done = 0
    while not clock.passed() and not STOP.is_set():
        recover_dead_trials(study, cfg)
        with ask_lock(search.storage):
            if started(study) >= search.n_trials or stop_reason(study, search):
                break
            trial = study.ask()
        with heartbeat(study, trial, search.heartbeat_interval) as beat:
            exhausted = run_trial(study, trial, cfg, dims, base_overrides, parent_run_id,
                                  base, getattr(beat, "lost", None), clock)
        done += 1
        if exhausted:
            break
    return done


def heartbeat(study, trial, interval):
    """The trial's heartbeat thread (RDB storages with search.heartbeat_interval set)."""
    storage = links.storage_of(study)
    if not interval or not hasattr(storage, "record_heartbeat"):
        return contextlib.nullcontext()
    return Heartbeat(storage, links.trial_id(study, trial.number), interval)


PARENT_WAIT = 300.0  # seconds; the launcher creates it within seconds of starting us


def parent_run_of(study):
    """The study's MLflow parent run id. A worker started with its sweep gets there before
    the launcher has created it: it imports MLflow meanwhile (it needs it for its first
    trial), then waits. Until the id is stored, the MLflow store may not exist yet."""

    parent = links.parent_run_id(study)
    if parent:
        return parent
    freeze_imported_heap()
    deadline = time.monotonic() + PARENT_WAIT
    while not STOP.is_set() and time.monotonic() < deadline:
        parent = links.parent_run_id(study)
        if parent:
            return parent  # stored once, under the ask lock: it never changes afterwards
        time.sleep(0.1)
    return None


def worker_entry(cfg_yaml, dims, base_overrides, deadline, threads, index=0):
    """Entry point of a local worker process (index: its rank among the local workers)."""
    show_notes()  # a new process: its storage notes go to stderr as the launcher's do
    stop_on_signals()
    stop_when_launcher_dies()
    try:
        worker_loop(OmegaConf.create(cfg_yaml), dims, base_overrides, deadline, threads, index)
    except KeyboardInterrupt:
        pass
    except DiskFull:
        raise SystemExit(DISK_FULL_EXIT) from None  # the launcher says it, in one line


DISK_FULL_EXIT = 28  # ENOSPC: a worker's exit status when a store's disk is full
