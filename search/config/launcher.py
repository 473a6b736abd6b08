"""The `search/launcher` group: where a study's workers run.

local   search.workers processes on this machine (the default)
slurm   a SLURM job array through submitit, one worker per array task
        (executor=local runs the same jobs through submitit's local executor, on this machine)
dask    tasks on a Dask cluster: a scheduler's address, or a local cluster (address: null)
follow  no workers: follow a study whose workers run elsewhere, then close it

Every launched worker joins the study as a local worker does: it takes a slot, asks for
trials until the study has search.n_trials, and is recovered as a dead worker when its node
is lost. Each schema below is the base of its YAML file (conf/search/launcher/).
"""
import shutil
from dataclasses import dataclass
from typing import Optional

from omegaconf import OmegaConf

from search.config.errors import ConfigError
from search.config.rules import Flag, Integer, OneOf, Positive, Text, check_rules

LAUNCHERS = ("local", "slurm", "dask", "follow")
EXECUTORS = ("slurm", "local")


@dataclass
class LocalLauncherSchema:
    name: str = "local"


@dataclass
class SlurmLauncherSchema:
    name: str = "slurm"
    executor: str = "slurm"           # or local: submitit's local executor on this machine
    partition: Optional[str] = None   # the SLURM partition (null: the cluster's default)
    time_min: int = 240               # each worker's time limit, in minutes
    cpus_per_worker: int = 1          # CPUs of each array task (its BLAS threads)
    mem_gb: float = 2.0               # memory of each array task
    parallelism: Optional[int] = None  # at most this many tasks at once (null: all)
    log_dir: str = "mlruns/launcher"  # submitit's job files and logs (shared with the nodes)
    wait: bool = True                 # false: submit and leave; search/launcher=follow closes it


@dataclass
class DaskLauncherSchema:
    name: str = "dask"
    address: Optional[str] = None     # tcp://HOST:8786 (null: a local cluster of workers)
    connect_timeout: float = 10.0     # seconds to reach the scheduler
    wait: bool = True                 # false: submit and leave; search/launcher=follow closes it


@dataclass
class FollowLauncherSchema:
    name: str = "follow"
    poll_seconds: float = 5.0         # between two looks at the study


BASES = {"base_local": LocalLauncherSchema, "base_slurm": SlurmLauncherSchema,
         "base_dask": DaskLauncherSchema, "base_follow": FollowLauncherSchema}

RULES = {
    "local": {"name": OneOf(LAUNCHERS)},
    "slurm": {"executor": OneOf(EXECUTORS), "partition": Text(optional=True),
              "time_min": Integer(1, 60 * 24 * 365), "cpus_per_worker": Integer(1, 4096),
              "mem_gb": Positive(2**20), "parallelism": Integer(1, 10**6, optional=True),
              "log_dir": Text(), "wait": Flag()},
    "dask": {"address": Text(optional=True), "connect_timeout": Positive(3600), "wait": Flag()},
    "follow": {"poll_seconds": Positive(3600)},
}


def check_launcher(launcher):
    """Ranges of the launcher's own keys, and what its engine needs on this machine."""
    if OmegaConf.is_config(launcher):
        launcher = OmegaConf.to_container(launcher, resolve=True)
    name = launcher.get("name")
    if name not in RULES:
        raise ConfigError(f"search.launcher.name={name!r}: must be one of {', '.join(LAUNCHERS)}")
    check_rules(launcher, RULES[name], "search.launcher")
    if name == "slurm" and launcher["executor"] == "slurm" and shutil.which("sbatch") is None:
        raise ConfigError("search.launcher.executor=slurm: sbatch is not on this machine's PATH; "
                          "allowed: run from a SLURM login node, or executor=local (submitit's "
                          "local executor, this machine)")
    address = launcher.get("address")
    if name == "dask" and address is not None and "://" not in address:
        raise ConfigError(f"search.launcher.address={address!r}: must be a scheduler address "
                          "such as tcp://HOST:8786, or null (a local cluster)")
    return launcher
