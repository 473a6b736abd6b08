"""Where a study's workers run: processes on this machine, a SLURM job array (submitit), or
tasks on a Dask cluster. Each engine returns a pool the launcher watches the same way:

    running()   the workers that have not ended
    wait(t)     block up to t seconds for one of them to end
    stop()      ask each to stop at its next safe point (its trial ends FAIL, retried)
    kill()      end them now (their trials are recovered as dead workers' trials)
    disk_full() whether one ended because a store's disk is full
    where       one line naming where they run
"""
from search.sweep.engines.dask import DaskPool, check_dask
from search.sweep.engines.local import LocalPool
from search.sweep.engines.slurm import SlurmPool, check_slurm


def start_pool(cfg, dims, base_overrides, deadline):
    """The started workers of cfg.search.launcher, or None when the only worker runs in
    this process (one local worker) or none runs here at all (follow)."""
    name = cfg.search.launcher.name
    if name == "follow":
        return None
    engine = {"local": LocalPool, "slurm": SlurmPool, "dask": DaskPool}[name]
    return engine.start(cfg, dims, base_overrides, deadline)


def check_engine(launcher):
    """What an engine needs before anything is stored (a reachable scheduler); raises
    ConfigError naming the key."""
    if launcher.name == "dask":
        check_dask(launcher)
    elif launcher.name == "slurm":
        check_slurm(launcher)
