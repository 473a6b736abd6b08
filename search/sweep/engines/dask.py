"""Tasks on a Dask cluster, one per worker: an existing cluster's scheduler
(search.launcher.address: dask-jobqueue on HPC, dask-kubernetes, a cloud cluster), or a
local cluster of search.workers processes. Chosen over Ray for its footprint: a local
cluster started and ran a first task in 0.87 s with 157 MB in 4 processes and installs in
45 MB, against Ray's 2.80 s, 701 MB in 10 processes and 259 MB (see docs/distributed.md)."""
import importlib.util
import socket
import uuid
from urllib.parse import urlsplit

from omegaconf import OmegaConf

from search.config.errors import ConfigError
from search.sweep.engines.job import DISK_FULL, run_worker
from search.sweep.engines.local import blas_threads


def check_dask(launcher):
    """Dask installed, and a scheduler address that answers within connect_timeout."""
    if importlib.util.find_spec("distributed") is None:
        raise ConfigError("search/launcher=dask: dask.distributed is not installed; allowed: "
                          "pip install 'dnnsweep[dask]', or search/launcher=local")
    if launcher.address is None:
        if not launcher.wait:
            raise ConfigError("search.launcher.wait=false: a local Dask cluster ends with this "
                              "command; allowed: wait=true, or a scheduler's address")
        return
    parts = urlsplit(launcher.address)
    try:
        with socket.create_connection((parts.hostname, parts.port or 8786),
                                      timeout=launcher.connect_timeout):
            pass
    except (OSError, ValueError) as e:
        raise ConfigError(f"search.launcher.address={launcher.address!r}: no Dask scheduler "
                          f"answers there ({e}); allowed: a running scheduler's address, or "
                          "null (a local cluster)") from None


class DaskPool:
    def __init__(self, client, cluster, futures, stop_event):
        self.client, self.cluster, self.futures, self.event = client, cluster, futures, stop_event
        self.where = (f"{len(futures)} task(s) on the Dask cluster at {client.scheduler.address}"
                      if cluster is None else f"{len(futures)} process(es) of a local Dask cluster")

    @classmethod
    def start(cls, cfg, dims, base_overrides, deadline):
        from dask.distributed import Client, Event, LocalCluster  # an optional extra: dnnsweep[dask]

        launcher, n = cfg.search.launcher, cfg.search.workers
        cluster = None
        if launcher.address is None:
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client, threads = Client(cluster), blas_threads(n)
        else:
            client, threads = Client(launcher.address, timeout=launcher.connect_timeout), None
        tag = uuid.uuid4().hex[:8]
        stop_event = Event(f"dnnsweep-stop-{tag}", client=client)
        cfg_yaml = OmegaConf.to_container(cfg, resolve=True)
        futures = [client.submit(run_worker, cfg_yaml, dims, list(base_overrides), deadline,
                                 threads, i, stop_event, pure=False,
                                 key=f"dnnsweep-{cfg.search.study_name}-{tag}-{i}")
                   for i in range(n)]
        return cls(client, cluster, futures, stop_event)

    def running(self):
        return [f for f in self.futures if not f.done()]

    def wait(self, timeout):
        from dask.distributed import wait

        try:
            wait(self.running(), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            pass

    def disk_full(self):
        return any(f.done() and f.status == "finished" and f.result() == DISK_FULL
                   for f in self.futures)

    def stop(self):
        self.event.set()  # each task's watcher sets its STOP: it stops at its next safe point

    def kill(self):
        self.client.cancel(self.futures, force=True)
        if self.cluster is not None:
            self.cluster.close()  # ends the worker processes; their trials are recovered

    def leave(self):
        """The tasks go on without this client (submit and leave)."""
        from dask.distributed import fire_and_forget

        fire_and_forget(self.futures)

    def close(self):
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
