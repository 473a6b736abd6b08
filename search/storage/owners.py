"""Who runs a trial: its owner (host:pid), whether that process still lives, and the
heartbeat that tells other machines (RDB storages) it does.

The journal file has no heartbeat: every trial records its owner and a live worker fails
the trials of dead owners on its own host. RDB storages use Optuna's heartbeat as well.
"""
import os
import socket
import threading


def owner_id():
    return f"{socket.gethostname()}:{os.getpid()}"


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def dead_local_owner(owner):
    """True when owner (host:pid) names a process of this host that no longer runs."""
    host, _, pid = (owner or "").rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and int(pid) != os.getpid() \
        and not pid_alive(int(pid))


class Heartbeat:
    """Records a running trial's heartbeat every interval seconds (RDB storages), through
    Optuna's public heartbeat API (storage.record_heartbeat).

    Optuna's own heartbeat thread dies at its first database error; this one keeps
    trying (every second while the database is away, so that the first beat after an
    outage comes right after it), so a database restart does not make a live trial look
    dead.
    """

    RETRY_SECONDS = 1.0

    def __init__(self, storage, trial_id, interval):
        self.storage, self.trial_id, self.interval = storage, trial_id, interval
        self._stop = threading.Event()
        self.lost = threading.Event()  # the trial ended elsewhere: this process lost it
        self._thread = threading.Thread(target=self._run, daemon=True, name="heartbeat")

    def _run(self):
        while True:
            wait = self.interval
            try:
                if self.storage.get_trial(self.trial_id).state.is_finished():
                    self.lost.set()  # failed for a stale heartbeat (this process paused)
                    return
                self.storage.record_heartbeat(self.trial_id)
            except Exception:  # noqa: BLE001 - a database outage: beat again soon
                wait = min(self.interval, self.RETRY_SECONDS)
            if self._stop.wait(wait):
                return

    def __enter__(self):
        if hasattr(self.storage, "record_heartbeat") and self.interval:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
