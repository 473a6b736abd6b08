"""Local workers fork from a fork server that imported their modules once: importing them
must open nothing a forked worker would share with its siblings."""
import multiprocessing
import subprocess
import sys

from search.sweep.engines.local import PRELOAD, worker_context

# In a fresh interpreter: the threads and open file descriptors before and after importing
# what the fork server preloads.
PROBE = """
import importlib, os, threading
def fds():
    return {fd: os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
            if os.path.exists(f"/proc/self/fd/{fd}")}
before = fds()
for name in PRELOAD:
    importlib.import_module(name)
print([t.name for t in threading.enumerate()])
print(sorted(set(fds().items()) - set(before.items())))
"""


def test_the_fork_servers_preload_opens_no_thread_file_or_connection():
    # Native threads of OpenBLAS and of pyarrow's jemalloc do start at import (as they did
    # in every spawned worker): both libraries re-initialize them in a forked child.
    out = subprocess.run([sys.executable, "-c", PROBE.replace("PRELOAD", repr(PRELOAD))],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    threads, new_fds = out.splitlines()[-2:]
    assert threads == "['MainThread']"
    assert new_fds == "[]"


def test_local_workers_fork_from_the_preloading_server():
    ctx = worker_context()
    if "forkserver" in multiprocessing.get_all_start_methods():
        assert ctx.get_start_method() == "forkserver"
    else:  # Windows
        assert ctx.get_start_method() == "spawn"
    assert "search.sweep.worker" in PRELOAD
