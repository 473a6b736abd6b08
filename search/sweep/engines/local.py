"""search.workers processes on this machine (one worker runs in the launcher).

They fork from multiprocessing's fork server, which imports what a worker needs once
(PRELOAD): a spawned worker imported MLflow, Optuna, SQLAlchemy, scikit-learn itself,
2-7 s of CPU each, and kept its own copy of their memory. The fork server is a fresh
process started for the first worker (with the launcher's environment and none of its
threads, connections or stores), so each worker starts clean, as a spawned one did."""
import multiprocessing
import os
from multiprocessing.connection import wait as wait_any

from omegaconf import OmegaConf

from search.sweep.worker import DISK_FULL_EXIT, worker_entry


def blas_threads(workers):
    """BLAS threads per worker so that workers x threads fits the cores."""
    return max(1, (os.cpu_count() or 1) // workers)


# What a worker imports before its first trial, by weight: importing opens nothing (no
# thread, file or connection: tests/search/sweep/test_local_engine.py).
PRELOAD = ["search.sweep.worker", "mlflow", "mlflow.store.tracking.sqlalchemy_store",
           "sklearn.model_selection"]


def worker_context():
    """The multiprocessing context local workers start in: forked from the fork server, or
    spawned where there is none (Windows)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)  # read once, when the server starts
    return ctx


class LocalPool:
    def __init__(self, procs):
        self.procs = procs
        self.where = f"{len(procs)} process(es) on this machine"

    @classmethod
    def start(cls, cfg, dims, base_overrides, deadline):
        n = cfg.search.workers
        if n == 1:
            return None  # the launcher runs it in its own process
        ctx = worker_context()
        cfg_yaml = OmegaConf.to_container(cfg, resolve=True)
        threads = blas_threads(n)
        procs = [ctx.Process(target=worker_entry, name=f"worker-{i}",
                             args=(cfg_yaml, dims, base_overrides, deadline, threads, i))
                 for i in range(n)]
        for p in procs:
            p.start()
        return cls(procs)

    def running(self):
        # is_alive() reaps a worker that died (kill -9) at once: a zombie's pid still
        # looks alive, and its trial would not be recovered until it is joined.
        return [p for p in self.procs if p.is_alive()]

    def wait(self, timeout):
        alive = self.running()
        if alive:
            wait_any([p.sentinel for p in alive], timeout=timeout)

    def disk_full(self):
        return any(p.exitcode == DISK_FULL_EXIT for p in self.procs)

    def stop(self):
        for p in self.running():  # Ctrl-C reached them too; SIGTERM covers a kill of this process
            p.terminate()  # SIGTERM; a worker that ended meanwhile is no error

    def kill(self):
        for p in self.running():  # stuck: its trial is failed later as a dead worker's trial
            p.kill()
            p.join(timeout=5)

    def close(self):
        for p in self.procs:
            if p.is_alive():
                p.terminate()
        for p in self.procs:
            p.join(timeout=30)
