"""How a worker is asked to stop at its next safe point: Ctrl-C, SIGTERM, or its launcher's
death. STOP is set; the training loop and the worker loop look at it."""
import signal
import threading

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
    trial and run as for Ctrl-C: Linux sends it SIGTERM when its parent dies (prctl
    PR_SET_PDEATHSIG); elsewhere a thread watches the parent."""
    import ctypes
    import multiprocessing
    import os

    parent = multiprocessing.parent_process()
    if parent is None:
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        armed = libc.prctl(1, signal.SIGTERM, 0, 0, 0) == 0  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        armed = False
    if os.getppid() != parent.pid:  # died before the signal was armed
        STOP.set()
    elif not armed:
        def watch():
            while os.getppid() == parent.pid and not STOP.wait(1.0):
                pass
            STOP.set()
        threading.Thread(target=watch, daemon=True, name="launcher-watch").start()
