"""A SLURM job array through submitit: one array task per worker. With executor=local the
same jobs run through submitit's local executor on this machine (how the tests run them)."""
import importlib.util
import time
from pathlib import Path

from omegaconf import OmegaConf

from search.config.errors import ConfigError
from search.sweep.engines.job import DISK_FULL, run_worker
from search.sweep.engines.local import blas_threads


def check_slurm(launcher):
    if importlib.util.find_spec("submitit") is None:
        raise ConfigError("search/launcher=slurm: submitit is not installed; allowed: "
                          "pip install 'dnnsweep[slurm]', or search/launcher=local")


class SlurmPool:
    def __init__(self, jobs, executor):
        self.jobs = jobs
        ids = jobs[0].job_id.split("_")[0] if jobs else "-"
        self.where = (f"{len(jobs)} task(s) of SLURM job array {ids}" if executor == "slurm"
                      else f"{len(jobs)} job(s) of submitit's local executor")

    @classmethod
    def start(cls, cfg, dims, base_overrides, deadline):
        import submitit  # an optional extra: dnnsweep[slurm]

        launcher, n = cfg.search.launcher, cfg.search.workers
        executor = submitit.AutoExecutor(folder=Path(launcher.log_dir) / "%j",
                                         cluster=launcher.executor)
        params = {"name": f"dnnsweep-{cfg.search.study_name}", "timeout_min": launcher.time_min,
                  "cpus_per_task": launcher.cpus_per_worker, "mem_gb": launcher.mem_gb}
        if launcher.partition:
            params["slurm_partition"] = launcher.partition
        if launcher.parallelism:
            params["slurm_array_parallelism"] = launcher.parallelism
        executor.update_parameters(**params)
        threads = launcher.cpus_per_worker if launcher.executor == "slurm" else blas_threads(n)
        cfg_yaml = OmegaConf.to_container(cfg, resolve=True)
        jobs = executor.map_array(run_worker, [cfg_yaml] * n, [dims] * n,
                                  [list(base_overrides)] * n, [deadline] * n, [threads] * n,
                                  list(range(n)))
        return cls(jobs, launcher.executor)

    def running(self):
        return [j for j in self.jobs if not j.done()]

    def wait(self, timeout):
        time.sleep(timeout)  # the scheduler is polled: submitit caches sacct's answers

    def disk_full(self):
        for j in self.jobs:
            try:
                if j.done() and j.result() == DISK_FULL:
                    return True
            except Exception:  # noqa: BLE001 - a task that died has no result: not a disk
                continue
        return False

    def stop(self):
        for j in self.running():
            j.cancel(check=False)  # scancel (SIGTERM); the local executor signals its job

    kill = stop  # SLURM follows a cancel with SIGKILL after its KillWait

    def leave(self):
        """Nothing to do: the array runs without this process."""

    def close(self):
        self.stop()
