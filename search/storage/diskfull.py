"""A full disk under a store: told apart from other errors, and named in one line."""
import errno
import os
from pathlib import Path

from search.storage.retry import error_chain

FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
FULL_TEXTS = ("database or disk is full", "no space left on device", "disk quota exceeded")


def is_disk_full(exc):
    """True when exc (or an error it came from) says the disk is full."""
    for e in error_chain(exc):
        if isinstance(e, OSError) and e.errno in FULL_ERRNOS:
            return True
        if any(t in str(e).lower() for t in FULL_TEXTS):
            return True
    return False


def mount_of(path):
    """(device, mount point) of the file system holding path, from /proc/mounts."""
    path = os.path.realpath(path)
    best = (None, "/")
    try:
        with open("/proc/mounts") as f:
            for line in f:
                device, point = line.split()[:2]
                point = point.replace("\\040", " ")
                if (path == point or path.startswith(point.rstrip("/") + "/")) \
                        and len(point) >= len(best[1]):
                    best = (device, point)
    except OSError:
        pass
    return best


def fullest(paths):
    """Of the stores at paths, the one on the file system with the least free space."""
    def free(p):
        p = Path(p)
        while not p.exists() and p != p.parent:
            p = p.parent
        try:
            st = os.statvfs(p)
            return st.f_bavail * st.f_frsize
        except OSError:
            return float("inf")
    return min(paths, key=free)


class DiskFull(Exception):
    """No space left for a store (None: not known here; the launcher names it): the sweep
    stops; re-running it once there is space closes what was left open and goes on."""

    def __init__(self, store=None):
        self.store = str(store) if store else None
        super().__init__(self.store)

    def __str__(self):
        if not self.store:
            return "no space left on the device of a store: free some space, then run the " \
                   "same command again to go on"
        path = Path(self.store)
        device, point = mount_of(path if path.exists() else path.parent)
        where = f"{device} (mounted on {point})" if device else point
        return (f"no space left on {where}, which holds {self.store}: free some space, then "
                "run the same command again to go on")
