"""The end of a study: confirm the best configurations, refit the winner, judge it
against the baselines, and bring the parent run up to date (best, stop reason, baselines,
verdict, trials CSV, plots, report). Fills the StudyOutcome the CLI reports."""
import tempfile
from functools import partial
from pathlib import Path

import optuna
from omegaconf import OmegaConf

from dnn.settings import fixed_length
from search import links
from search.config import run_config
from search.report import tables
from search.report.content import report_content
from search.report.page import log_study_report
from search.run.baseline import data_summary, refit_baselines, run_baselines
from search.run.train import load_run_data, train_run
from search.storage.locks import ask_lock
from search.study.ranking import ranked
from search.study.space import apply_values, values_from_params
from search.study.study import as_list, close_failed_trial_runs
from search.sweep import verdict
from search.sweep.confirm import confirm
from search.sweep.outcome import STOPPED_TAG
from search.sweep.verdict import VERDICT_TAG
from search.tracking.client import close_run, refresh_parent_run


def _silent(line):
    pass


def refit_best(cfg, study, dims, parent_run_id, say=None, best=None):
    """Retrain the best config (best: a trial; by default the study's best) on all
    training data (train + validation) and evaluate it once on the test split, as a child
    run tagged refit=true. Once per best trial: the test split is looked at once, never
    used to choose."""

    say = say or _silent

    if best is None:
        top = ranked(study)
        if not top:
            return None
        best = top[0]
    mark = links.claim_refit(study, best.number, ask_lock(cfg.search.storage))
    if mark is not None:
        if "run_id" not in mark:
            say(f"refit: trial {best.number} is being refit by {mark.get('owner')}")
            return None
        return mark
    refit_cfg = apply_values(run_config(cfg), values_from_params(best.params, dims))
    refit_cfg.data.val_fraction = 0.0
    best_iteration = links.trial_metrics(best).get("best_iteration")
    if best_iteration is not None:  # the trial's early-stopped length, with no split to stop on
        for key, value in fixed_length(refit_cfg.train, best_iteration).items():
            refit_cfg.train[key] = value
    refit_cfg.tracking.register = OmegaConf.select(cfg, "search.register")
    refit_cfg.model.ensemble = networks = cfg.search.refit_ensemble
    say(f"refit: trial {best.number} on all training data" + (
        f", {networks} networks from seeds {refit_cfg.train.seed}-"
        f"{refit_cfg.train.seed + networks - 1} averaged (search.refit_ensemble)"
        if networks > 1 else ""))
    # progress: minutes on all the data, its iterations show
    with links.run_under_way(study, partial(ask_lock, cfg.search.storage)) as on_start:
        result = train_run(refit_cfg, tags={"refit": "true", "optuna.study": study.study_name,
                                            "optuna.trial_number": best.number},
                           parent_run_id=parent_run_id, run_name=f"refit-trial-{best.number}",
                           progress=True, on_start=on_start)
    trained = int(result.metrics.get("ensemble_networks", networks))
    if trained < networks:
        say(f"refit: {networks - trained} of the {networks} networks diverged and are left "
            f"out: the model averages {trained} (MLflow tag ensemble_left_out)")
    done = {"trial": best.number, "run_id": result.run_id,
            **{k: v for k, v in result.metrics.items() if k.startswith("test_")}}
    if refit_cfg.tracking.register and refit_cfg.tracking.log_model:
        done["model"] = f"models:/{refit_cfg.tracking.register}@champion"
    links.set_refit_done(study, done)
    return done


def close_orphan_runs(cfg, study):
    """Close KILLED, with the reason, the refit and confirmation runs whose launcher died
    (kill -9) before it ended them: the work they were doing is done again, in new runs."""
    for run_id, owner in links.take_orphan_runs(study, ask_lock(cfg.search.storage)).items():
        close_run(cfg.tracking, run_id, "KILLED", f"its launcher {owner} died before the run "
                  "ended; a later launcher of the study did its work again in a new run")


def finish(cfg, study, dims, base_overrides, parent_run_id, outcome, plotter=None, say=None):
    """Once the study is FINISHED (its total, its time budget or its patience reached):
    confirm the best configurations and refit the winner. Then judge the best against the
    baselines and refresh the parent run: best, baselines, stop reason, verdict, CSV, plots,
    report; then its status (None: left running). Fills outcome."""

    say = say or _silent
    close_orphan_runs(cfg, study)
    close_failed_trial_runs(study, cfg)
    metrics = as_list(cfg.search.metric)
    winner = None
    elsewhere = False  # another launcher confirms and refits
    if outcome.status == "FINISHED":
        confirmed = confirm(cfg, study, dims, parent_run_id, base_overrides, say)
        elsewhere = confirmed is None
        outcome.confirmed = confirmed or []
        winner = confirmed_trial(study, outcome.confirmed)
    if cfg.search.refit and outcome.status == "FINISHED" and not elsewhere:
        outcome.refit = refit_best(cfg, study, dims, parent_run_id, say, winner)
    say(f"study {study.study_name!r}: the verdict against a model that learns nothing ...")
    judge(cfg, study, outcome, winner)
    tags, values = {STOPPED_TAG: outcome.stopped}, dict(outcome.baselines)
    if outcome.verdict is not None:
        tags[VERDICT_TAG] = outcome.verdict.label
    if outcome.confirmed:
        values[f"confirmed_{metrics[0]}"] = outcome.confirmed[0].mean
        tags["dnnsweep.confirmed_trial"] = outcome.confirmed[0].trial
    say(f"study {study.study_name!r}: trials.csv, plots and report.html on the parent run ...")
    with tempfile.TemporaryDirectory() as tmp:
        files = [(tables.write_trials_csv(study, Path(tmp) / "trials.csv"), None)]
        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.ERROR)  # "no complete trials" is known
        try:
            plots, skipped = (plotter.draw(study, tmp) if plotter
                              else tables.write_plots(study, tmp))
            outcome.notes += [f"plot skipped ({note})" for note in skipped]
        finally:
            optuna.logging.set_verbosity(verbosity)
        files += [(p, "plots") for p in plots]
        outcome.report = write_report(cfg, study, dims, base_overrides, parent_run_id, tmp,
                                      outcome.notes,
                                      outcome.judgement_lines() + outcome.confirmation_lines())
        refresh_parent_run(cfg.tracking, parent_run_id, tables.best_summary(study, metrics),
                           files, outcome.status, metrics=values, tags=tags)


def confirmed_trial(study, confirmed):
    """The trial whose configuration has the best confirmed mean, or None."""
    if not confirmed:
        return None
    return next(t for t in study.get_trials(deepcopy=False) if t.number == confirmed[0].trial)


def judge(cfg, study, outcome, trial=None, data=None):
    """Baselines of the study's protocol (and of the test split, for the refit), the data
    summary, and the verdict on trial (by default the best), into outcome."""

    data = data if data is not None else load_run_data(cfg)[0]
    protocol = (cfg.search.cv.folds, cfg.search.cv.repeats, cfg.data.seed)
    values = {**run_baselines(data, *protocol).values, **refit_baselines(data)}
    outcome.baselines = {f"baseline_{k}": v for k, v in values.items()
                         if v == v and abs(v) != float("inf")}  # MLflow takes finite values
    outcome.data_summary = data_summary(data, *protocol)
    folds, repeats = protocol[:2]
    outcome.protocol = (f"{folds} folds" + (f" x {repeats} repeats" if repeats > 1 else "")
                        if folds else "validation split")
    outcome.verdict = verdict.evaluate(study, cfg, data, trial)


def write_report(cfg, study, dims, base_overrides, parent_run_id, folder, notes,
                 verdict_lines=None):
    """report.html and the cost-curve figures on the parent run; returns its location
    (None when it could not be written: the study's own results are already stored, and
    notes gets one line saying why)."""

    metrics = as_list(cfg.search.metric)
    val_metric = metrics[0] if metrics[0].startswith("val_") else "val_cost"
    try:
        content = report_content(study, cfg, dims, base_overrides,
                                 [line for line in verdict_lines or () if line])
        trials = study.get_trials(deepcopy=False)
        location, _ = log_study_report(cfg.tracking, parent_run_id, trials, content,
                                       val_metric, Path(folder) / "report")
        return tables.mask(location)
    except Exception as e:  # noqa: BLE001 - a report that fails must not lose the study
        notes.append(f"report skipped ({type(e).__name__}: {e})")
        return None
