"""The body of a worker that a cluster engine starts: it joins the study as a local worker
does (a slot, trials until search.n_trials), in a process of the engine's own."""
import threading

from omegaconf import OmegaConf

from search.console import show_notes
from search.storage.diskfull import DiskFull
from search.sweep.signals import STOP, stop_on_signals
from search.sweep.worker import worker_loop

DONE, DISK_FULL = "done", "disk_full"


def run_worker(cfg_yaml, dims, base_overrides, deadline, threads, index, stop_event=None):
    """Run trials until the study has its total; returns DONE or DISK_FULL. stop_event, an
    object with wait() (a Dask Event), asks this worker to stop at its next safe point."""
    STOP.clear()  # an engine may run several workers in turn in one process
    show_notes()
    if threading.current_thread() is threading.main_thread():
        stop_on_signals()  # scancel and submitit's cancel signal the job's process
    if stop_event is not None:
        threading.Thread(target=lambda: stop_event.wait() and STOP.set(), daemon=True).start()
    try:
        worker_loop(OmegaConf.create(cfg_yaml), dims, base_overrides, deadline, threads, index)
    except DiskFull:
        return DISK_FULL
    except KeyboardInterrupt:
        pass
    return DONE
