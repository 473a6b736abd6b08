"""search.workers processes on this machine (spawned; one worker runs in the launcher)."""
import multiprocessing
import os
from multiprocessing.connection import wait as wait_any

from omegaconf import OmegaConf

from search.sweep.worker import DISK_FULL_EXIT, worker_entry


def blas_threads(workers):
    """BLAS threads per worker so that workers x threads fits the cores."""
    return max(1, (os.cpu_count() or 1) // workers)


class LocalPool:
    def __init__(self, procs):
        self.procs = procs
        self.where = f"{len(procs)} process(es) on this machine"

    @classmethod
    def start(cls, cfg, dims, base_overrides, deadline):
        n = cfg.search.workers
        if n == 1:
            return None  # the launcher runs it in its own process
        ctx = multiprocessing.get_context("spawn")
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
