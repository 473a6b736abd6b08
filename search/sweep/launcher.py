"""A sweep on this machine: open the study and its parent run, start the workers, show
progress, and close the study: refit, parent run, and the StudyOutcome the CLI reports."""
import threading
import time
from contextlib import ExitStack, closing

import optuna
from omegaconf import OmegaConf

from search import links
from search.config import flatten
from search.report import tables
from search.report.plotter import Plotter
from search.run.baseline import split_params
from search.run.train import load_run_data
from search.storage.diskfull import DiskFull, fullest
from search.storage.journal import journal_path
from search.storage.locks import ask_lock
from search.storage.urls import is_shared, sqlite_path
from search.study.definition import check_definition, data_digest, study_definition
from search.study.first_trial import queue_usual
from search.study.narrow_from import space_yaml, warm_start
from search.study.stopping import stop_reason
from search.study.study import (
    as_list,
    counts,
    open_study,
    quiet_optuna,
    recover_dead_trials,
    started,
    trained_finished,
)
from search.sweep.budget import SearchClock
from search.sweep.engines import start_pool
from search.sweep.finish import finish
from search.sweep.outcome import StudyOutcome
from search.sweep.signals import STOP, stop_on_signals
from search.sweep.watch import resume_line, watch
from search.sweep.worker import worker_loop
from search.tracking.client import (
    artifact_location,
    browse_hint,
    client_for,
    set_run_tags,
    tracking_uri,
)
from search.tracking.runs import ensure_parent_run
from search.tracking.settings_log import changed_settings, log_changed_settings


def run_workers(cfg, dims, base_overrides, deadline, pool):
    """Run the one in-process worker, or wait for the pool's workers; KeyboardInterrupt
    once a stop was asked for (Ctrl-C or SIGTERM)."""
    if pool is None:
        if cfg.search.launcher.name == "follow":
            follow(cfg, dims)
        else:
            try:
                worker_loop(cfg, dims, base_overrides, deadline)
            except DiskFull:
                raise DiskFull(fullest(store_paths(cfg))) from None
        if STOP.is_set():  # stopped between two trials
            raise KeyboardInterrupt
        return
    forwarded = None
    while pool.running():
        if pool.disk_full():
            STOP.set()  # no space for a store: stop the others, say it once
        if STOP.is_set() and forwarded is None:
            pool.stop()
            forwarded = time.monotonic()
        if forwarded is not None and time.monotonic() - forwarded > 60:
            pool.kill()  # stuck: their trials are failed later as dead workers' trials
            break
        pool.wait(1.0)
    if pool.disk_full():
        raise DiskFull(fullest(store_paths(cfg)))
    if STOP.is_set():
        raise KeyboardInterrupt


def follow(cfg, dims):
    """search/launcher=follow: no workers here; wait until the study has its total (or
    stops under search.patience), or until none of its trials runs any more."""
    search = cfg.search
    study = open_study(cfg, dims)
    idle_since = None
    while not STOP.wait(cfg.search.launcher.poll_seconds):
        recover_dead_trials(study, cfg)
        if trained_finished(study) >= search.n_trials or stop_reason(study, search):
            return
        running = counts(study)[optuna.trial.TrialState.RUNNING]
        idle_since = None if running else (idle_since or time.monotonic())
        if idle_since and time.monotonic() - idle_since > 3 * search.grace_period:
            return  # no worker is left: the study ends incomplete, a sweep goes on with it


def store_paths(cfg):
    """The local files a sweep writes: the study's journal, the MLflow store, its artifacts."""

    paths = [] if is_shared(cfg.search.storage) else [str(journal_path(cfg.search.storage))]
    mlflow_db = sqlite_path(tracking_uri(cfg.tracking))
    if mlflow_db:
        paths.append(mlflow_db)
        if cfg.tracking.artifact_root:  # the local store's artifacts (cost curves, models)
            paths.append(cfg.tracking.artifact_root)
    return paths or ["."]


def nothing_to_run(study, search):
    """One line when the study already has its total and nothing runs, else None."""
    done = trained_finished(study)
    if counts(study)[optuna.trial.TrialState.RUNNING]:
        return None
    if search.refit and "run_id" not in links.refit_mark(study):
        return None  # complete, but its refit is owed (never run, or its launcher died)
    if done < search.n_trials:
        if stop_reason(study, search) == "patience":
            return (f"study {study.study_name!r} stopped after {done} finished trials: "
                    f"search.patience={search.patience} trials in a row did not improve it; "
                    "nothing to run (raise search.patience to go on)")
        return None
    return (f"study {study.study_name!r} already has {done} finished trials, "
            f"n_trials={search.n_trials}: nothing to run (raise search.n_trials to go on, "
            "or choose another search.study_name for a new study)")


def mark_narrowed(cfg, parent, dims):
    """The narrowed space as space.yaml on the parent run, its source study as a tag."""

    set_run_tags(cfg.tracking, parent, {"dnnsweep.narrowed_from": cfg.search.narrow_from})
    client_for(cfg.tracking).log_text(parent, space_yaml(dims), "space.yaml")


def parent_left_running(cfg, study):
    """The study's parent run id when it is still RUNNING (its last launcher found trials
    running elsewhere and left it open), else None."""

    parent = links.parent_run_id(study)
    if not parent:
        return None
    return parent if client_for(cfg.tracking).get_run(parent).info.status == "RUNNING" \
        else None


def study_settings(cfg):
    search = OmegaConf.to_container(cfg.search, resolve=True)
    return flatten({"search": search})


def sweep(cfg, dims, base_overrides, say=None, begun=None):
    """Run (or resume, or join) the study; returns a StudyOutcome. say(line) receives the
    few lines a user wants while it runs (the parent run, the refit starting). begun
    (time.time()): where search.timeout counts from (default: now)."""
    say = say or (lambda line: None)
    quiet_optuna()
    with ExitStack() as stack:  # closes the plotter, once one was started
        return _sweep(cfg, dims, base_overrides, stack, say, begun or time.time())


def end_status(study, search, interrupted, clock):
    """(parent run status, stop reason). A time budget that ran out, or a study stalled
    under search.patience, is a normal end."""
    c = counts(study)
    if interrupted:
        return "KILLED", "interrupted"
    if trained_finished(study) >= search.n_trials:
        return "FINISHED", "n_trials"
    if stop_reason(study, search):
        return "FINISHED", stop_reason(study, search)
    if c[optuna.trial.TrialState.RUNNING]:
        # Trials still run in other launchers of the study (other machines): the last of
        # them to end closes the parent run. Closing it here could land after theirs.
        return None, "running_elsewhere"
    if clock is not None and clock.passed():
        return "FINISHED", "timeout"
    return "KILLED", "incomplete"  # workers ended early (crashed or killed): a resume goes on


def _sweep(cfg, dims, base_overrides, stack, say, begun):

    search = cfg.search
    metrics = as_list(search.metric)
    study = open_study(cfg, dims)
    data = load_run_data(cfg)[0]
    created = check_definition(study, study_definition(cfg, dims, data_digest(data)),
                               ask_lock(search.storage))
    if created:
        queue_usual(study, cfg, dims, say)
    if search.narrow_from:
        added = warm_start(study, cfg, dims, ask_lock(search.storage))
        if added:
            say(f"warm start: {added} finished trial(s) of study {search.narrow_from!r} "
                "inside the new space (not re-trained, not counted in search.n_trials)")
    recover_dead_trials(study, cfg)
    nothing = nothing_to_run(study, search)
    if nothing:
        left_open = parent_left_running(cfg, study)
        if not left_open:
            return as_stored(cfg, study, metrics, nothing)
        # The launcher whose trials ended last was not this one's predecessor: the study
        # is complete but its parent run was left RUNNING. Close it (refit, verdict) here.
        status, stopped = end_status(study, search, False, None)
        outcome = StudyOutcome(study=study, metrics=metrics, parent_run_id=left_open,
                               status=status, stopped=stopped,
                               experiment=cfg.tracking.experiment,
                               tracking_uri=tables.mask(tracking_uri(cfg.tracking)),
                               browse=browse_hint(cfg.tracking, left_open))
        finish(cfg, study, dims, base_overrides, left_open, outcome,
               stack.enter_context(closing(Plotter())), say)
        return outcome
    plotter = stack.enter_context(closing(Plotter()))  # loads plotting while trials run
    deadline = begun + search.timeout if search.timeout else None
    clock = SearchClock(study, search, deadline)  # the search's end: the refit's time left
    # Workers start while the parent run is created: their start-up (an interpreter and
    # its imports, ~2 s each) overlaps this process's MLflow set-up. They touch the MLflow
    # store only once the parent run exists, so a new store is created by this process alone.
    resuming = resume_line(study, search)  # before the workers take the queued retries
    pool = start_pool(cfg, dims, base_overrides, deadline)
    try:
        settings = {**study_settings(cfg),
                    **split_params(data, search.cv.folds, search.cv.repeats, cfg.data.seed)}
        parent = ensure_parent_run(cfg.tracking, cfg.tracking.experiment, study, settings,
                                   ask_lock(search.storage))
    except BaseException:
        if pool is not None:
            pool.close()
        raise
    if search.narrow_from:
        mark_narrowed(cfg, parent, dims)
    log_changed_settings(cfg.tracking, parent, study_settings(cfg))
    say(f"study {study.study_name!r}: {search.n_trials} trials, {search.workers} worker(s); "
        f"MLflow parent run {parent}")
    if resuming:
        say(resuming)
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(study, metrics, search.n_trials, stop, cfg),
                               daemon=True)
    stop_on_signals()  # Ctrl-C, or SIGTERM to this process, stops the sweep cleanly
    watcher.start()
    interrupted = False
    try:
        if pool is not None and not getattr(cfg.search.launcher, "wait", True):
            pool.leave()
            return submitted(cfg, study, metrics, parent, pool)
        run_workers(cfg, dims, base_overrides, deadline, pool)
        recover_dead_trials(study, cfg)
        if search.launcher.name != "follow" and started(study) < search.n_trials \
                and not clock.passed() and not stop_reason(study, search):
            # a worker died after the others had finished: run its retried trial here
            worker_loop(cfg, dims, base_overrides, deadline)
        if STOP.is_set():
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        interrupted = True
    finally:
        stop.set()
        watcher.join(timeout=10)
        if pool is not None and getattr(cfg.search.launcher, "wait", True):
            pool.close()
    recover_dead_trials(study, cfg)
    status, stopped = end_status(study, search, interrupted, clock)
    outcome = StudyOutcome(study=study, metrics=metrics, parent_run_id=parent, status=status,
                           stopped=stopped, experiment=cfg.tracking.experiment,
                           tracking_uri=tables.mask(tracking_uri(cfg.tracking)),
                           browse=browse_hint(cfg.tracking, parent))
    finish(cfg, study, dims, base_overrides, parent, outcome, plotter, say)
    return outcome


def as_stored(cfg, study, metrics, note):
    """The outcome of a study with nothing to run, as its stores hold it: best trials,
    refit, report, runs; and a note for the sampler or pruner settings of this command
    that differ from the study's, which nothing uses."""
    parent = links.parent_run_id(study)
    refit = links.refit_mark(study)
    outcome = StudyOutcome(study=study, metrics=metrics, parent_run_id=parent, status=None,
                           stopped="nothing_to_run", experiment=cfg.tracking.experiment,
                           tracking_uri=tables.mask(tracking_uri(cfg.tracking)), note=note,
                           refit=refit if "run_id" in refit else None)
    if parent:
        outcome.browse = browse_hint(cfg.tracking, parent)
        outcome.report = tables.mask(artifact_location(cfg.tracking, parent, "report.html"))
        changed = changed_settings(cfg.tracking, parent, study_settings(cfg))
        if changed:
            outcome.notes.append(
                "this command's " + ", ".join(f"{k}={now} (the study's: {then})"
                                              for k, (then, now) in changed.items())
                + ": not used, since nothing runs (a resume with a higher search.n_trials "
                "would use it)")
    return outcome


def submitted(cfg, study, metrics, parent, pool):
    """search.launcher.wait=false: the workers run on without this command; the outcome
    says where (the CLI prints how to follow and close the study later)."""
    return StudyOutcome(study=study, metrics=metrics, parent_run_id=parent, status=None,
                        stopped="submitted", experiment=cfg.tracking.experiment,
                        tracking_uri=tables.mask(tracking_uri(cfg.tracking)),
                        browse=browse_hint(cfg.tracking, parent), submitted=pool.where)
