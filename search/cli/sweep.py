"""dnn-sweep: an Optuna study over the network, every trial a tracked MLflow run."""
import sys
import time

from hydra.core.hydra_config import HydraConfig

from dnn.data import DataError
from search.cli.common import EXIT_FAILED, Exit, fail, hydra_task, run_hydra_app
from search.cli.study_summary import summary_lines
from search.config import ConfigError
from search.config.names import STUDY_NAME
from search.config.overrides import override_key
from search.config.rules import check_rules
from search.config.space_fit import fitted_lines
from search.run.train import load_run_data
from search.storage.diskfull import DiskFull
from search.storage.urls import sqlite_path
from search.study.narrow_from import heading, prepare, space_yaml
from search.study.study import base_run_config, check_sweep_config, quiet_optuna
from search.sweep.engines import check_engine
from search.sweep.launcher import sweep
from search.tracking.client import check_reachable, tracking_uri

EXIT_INTERRUPTED = 130


def say(line):
    print(line, flush=True)


@hydra_task
def sweep_task(cfg):
    started = time.time()  # search.timeout counts from here: the config, the data, the stores

    from omegaconf import OmegaConf

    given = any(override_key(o) == "search.study_name"
                for o in HydraConfig.get().overrides.task)
    name, source = (OmegaConf.select(cfg, f"search.{key}", throw_on_resolution_failure=False)
                    for key in ("study_name", "narrow_from"))
    print(f"{heading(name, source, given)}: checking the config and the data ...", flush=True)
    try:
        quiet_optuna()  # before the sampler is first built: no experimental-feature notes
        dims = check_sweep_config(cfg)
        if cfg.search.narrow_from:
            cfg, dims = narrowed(cfg, dims, given)
        load_run_data(base_run_config(cfg))  # a bad data file or cv.folds: before any store
        for line in fitted_lines(dims):
            print(f"space fitted to the data: {line}", flush=True)
        cfg.tracking.uri = tracking_uri(cfg.tracking)  # the runs record the store they went to
        check_reachable(cfg.tracking.uri)  # before the study is created
        check_engine(cfg.search.launcher)  # an engine installed, a scheduler that answers
    except (ConfigError, DataError, ValueError) as e:
        fail(str(e))
    print(f"study {cfg.search.study_name!r}: opening it and the MLflow store"
          f"{new_store_note(cfg.tracking)} ...", flush=True)

    base = [o for o in HydraConfig.get().overrides.task if not o.lstrip("+~").startswith("search")]
    try:
        outcome = sweep(cfg, dims, base, say, started)
    except ConfigError as e:
        fail(str(e))
    except DiskFull as e:
        fail(str(e), EXIT_FAILED)
    if outcome.note:  # nothing to run: the study as it stands
        say(outcome.note)
        for note in outcome.notes:
            print(f"note: {note}", file=sys.stderr)
        if outcome.parent_run_id:
            say("\n".join(summary_lines(outcome, cfg, dims, base)))
        return
    if outcome.submitted:
        say(submitted_lines(cfg, outcome))
        return
    for note in outcome.notes:
        print(f"note: {note}", file=sys.stderr)
    if outcome.status is None:
        say(f"{outcome.counts['RUNNING']} trial(s) still running elsewhere; the launcher "
            "that ends last closes the study's parent run")
    say("\n".join(summary_lines(outcome, cfg, dims, base)))
    if outcome.interrupted:
        print("interrupted: run the same command again to resume the study", file=sys.stderr)
        raise Exit(EXIT_INTERRUPTED)
    if outcome.best is None and outcome.status is not None:
        if outcome.counts["FAIL"]:
            fail("every trial failed; see fail_reason on the trials and the runs' error tags",
                 EXIT_FAILED)
        fail(f"no trial completed within search.timeout={cfg.search.timeout} s: raise it, "
             "or make the trials shorter", EXIT_FAILED)


def submitted_lines(cfg, outcome):
    """Where the workers run on, and the command that follows and closes the study."""
    given = [o for o in HydraConfig.get().overrides.task
             if not o.lstrip("+~").startswith(("search/launcher", "search.launcher."))]
    follow = " ".join(["dnn-sweep", *given, "search/launcher=follow"])
    return (f"submitted: {outcome.submitted} work on study {outcome.study.study_name!r} "
            f"without this command (MLflow parent run {outcome.parent_run_id}).\n"
            f"follow it, and close it once they end (refit, verdict, report):\n  {follow}")


def narrowed(cfg, dims, given):
    """The config and dims of the study narrowed from search.narrow_from; prints the space.
    given: search.study_name is on the command line."""

    new_cfg, new_dims, old, top = prepare(cfg, dims, given)
    check_rules(new_cfg.search, {"study_name": STUDY_NAME}, "search")  # <old name>-fine
    if new_cfg.search.study_name == old.study_name:
        raise ConfigError(f"search.study_name {old.study_name!r} is the study narrowed from: "
                          "choose another name (default: <old name>-fine)")
    print(f"study {new_cfg.search.study_name!r}: space narrowed from study {old.study_name!r} "
          f"(its {len(top)} best complete trials, top {new_cfg.search.narrow.top:g}, margin "
          f"{new_cfg.search.narrow.margin:g}):\n{space_yaml(new_dims).rstrip()}", flush=True)
    return new_cfg, new_dims


def new_store_note(cfg_tracking):
    """A few words when the local MLflow store does not exist yet (its tables take seconds)."""
    import os


    path = sqlite_path(tracking_uri(cfg_tracking))
    return " (a new store: creating its tables takes a few seconds)" if path and \
        not os.path.exists(path) else ""


def check(cfg):

    quiet_optuna()
    check_sweep_config(cfg)


def main():
    run_hydra_app(sweep_task, "sweep", "dnn-sweep", check=check)


if __name__ == "__main__":
    main()
