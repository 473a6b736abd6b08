"""How a worker is asked to stop at its next safe point: Ctrl-C, SIGTERM, or its launcher's
death. STOP is set; the training loop and the worker loop look at it."""
import multiprocessing
import signal
import threading
from multiprocessing.connection import wait as wait_any

STOP = threading.Event()


def stop_on_signals():
    """SIGINT (Ctrl-C reaches every process of the group) and SIGTERM (a scheduler, `kill`)
    ask this process to stop at its next safe point: between two training iterations, or
    between two trials. Raising KeyboardInterrupt wherever the signal lands could cut
    through a storage or MLflow call that holds a lock, and closing the trial would hang."""
    def handler(signum, frame):
        STOP.set()
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def stop_when_launcher_dies():
    """A worker whose launcher died (kill -9) stops at its next safe point, closing its
    trial and run as for Ctrl-C. A thread waits on multiprocessing's parent sentinel, a pipe
    the launcher holds open while it lives: a worker forked from the fork server has that
    server, not the launcher, as its parent process (os.getppid, PR_SET_PDEATHSIG)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch():
        wait_any([parent.sentinel])  # readable (end of file) once the launcher is gone
        STOP.set()
    threading.Thread(target=watch, daemon=True, name="launcher-watch").start()
