"""Refuse arrays that cannot fit in memory before allocating them, naming the sizes."""
import os


def available_bytes():
    """Memory a new allocation can get without swapping: MemAvailable on Linux, else the
    physical memory."""
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
