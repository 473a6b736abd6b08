"""Refuse arrays that cannot fit in memory before allocating them, naming the sizes."""
import os

try:
    import resource  # Unix only: the address-space limit (ulimit -v)
except ImportError:
    resource = None


def available_bytes():
    """Memory a new allocation can get without swapping: MemAvailable on Linux, else the
    physical memory; less when the process's address space is limited (ulimit -v)."""
    return min(_free_memory(), _address_space_left())


def _address_space_left():
    """What RLIMIT_AS leaves of this process's address space (inf: no limit)."""
    if resource is None:
        return float("inf")
    try:
        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
        if limit == resource.RLIM_INFINITY:
            return float("inf")
        with open("/proc/self/status") as f:
            used = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
        return max(0, limit - used)
    except (OSError, StopIteration, ValueError):
        return float("inf")


def _free_memory():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return float("inf")


def gib(n_bytes):
    return f"{n_bytes / 2**30:.3g} GiB"


def check_fits(what, n_bytes):
    """ValueError when n_bytes (what: the arrays and their shapes) exceed the memory
    available now."""
    free = available_bytes()
    if n_bytes > free:
        raise ValueError(f"{what} need {gib(n_bytes)}, more than the {gib(free)} of memory "
                          "available")
