"""Per-trial coordination overhead and storage operations per second against the number of
workers: what a worker pays around each trial for sharing one study ("count, then ask" under
the ask lock, then tell), with no training in between, directly on PostgreSQL and through
dnn-storage-proxy.

Command (from the repository root; a PostgreSQL server that lets this user create databases):

    .venv/bin/python bench/bench_scale.py [--url postgresql+psycopg2://postgres@127.0.0.1:5432/postgres]
        [--workers 1,2,4,8,16,32] [--trials 8] [--no-proxy]

Each row: W worker processes (started before timing, the study opened) each run --trials
rounds of `with ask_lock(url): started(study); study.ask()` then `study.tell(trial, 0.0)`
on a fresh database; the median and 90th percentile of one round's wall time, the study's
trials per second over all workers, the storage calls one round makes (Optuna's storage API,
as the worker's study calls it), the study's storage calls per second, and the most
sessions the study's database served meanwhile (pg_stat_activity, sampled every 20 ms). Through the proxy the ask lock is absent (see
docs/distributed.md).
"""
import argparse
import contextlib
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid

import optuna
import sqlalchemy
from common import REPO, load1

DEFAULT_URL = os.environ.get("DNNSWEEP_TEST_POSTGRES_URL",
                             "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def admin(url, sql):
    engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sqlalchemy.text(sql))
    engine.dispose()


class Counted:
    """The storage calls made through a storage's public API (optuna.storages.BaseStorage),
    counted where the study makes them (a call made by another call is not counted again)."""

    def __init__(self, storage):
        self.calls, self.depth = 0, 0
        for name in dir(optuna.storages.BaseStorage):
            if not name.startswith("_") and callable(getattr(storage, name, None)):
                setattr(storage, name, self.counting(getattr(storage, name)))

    def counting(self, method):
        def call(*args, **kwargs):
            self.calls += self.depth == 0
            self.depth += 1
            try:
                return method(*args, **kwargs)
            finally:
                self.depth -= 1
        return call


def worker(storage_url, rounds, ready, go, out):
    from search.storage.locks import ask_lock
    from search.storage.stores import make_storage
    from search.study.study import started

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = make_storage(storage_url, None, None)
    study = optuna.load_study(study_name="scale", storage=storage)
    ready.put(True)
    go.wait()
    times, counted = [], Counted(storage)
    for _ in range(rounds):
        t0 = time.perf_counter()
        with ask_lock(storage_url):
            started(study)
            trial = study.ask()
        study.tell(trial, 0.0)
        times.append(time.perf_counter() - t0)
    out.put((times, counted.calls))


class PeakSessions:
    """The most sessions pg_stat_activity shows on db_url's database, sampled every 20 ms."""

    def __init__(self, db_url):
        self.engine = sqlalchemy.create_engine(db_url, poolclass=sqlalchemy.pool.NullPool)
        self.name, self.peak = sqlalchemy.engine.make_url(db_url).database, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self):
        query = sqlalchemy.text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d")
        with self.engine.connect() as conn:
            while not self.stop.wait(0.02):
                # less this sampler's own session
                self.peak = max(self.peak, conn.execute(query, {"d": self.name}).scalar() - 1)
                conn.rollback()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=10)
        self.engine.dispose()


def one_row(storage_url, db_url, workers, rounds):
    from search.storage.stores import make_storage

    optuna.create_study(study_name="scale", storage=make_storage(db_url, None, None))
    ctx = mp.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=worker, args=(storage_url, rounds, ready, go, out))
             for _ in range(workers)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=300)
    with PeakSessions(db_url) as sessions:
        start = time.perf_counter()
        go.set()
        results = [out.get(timeout=1800) for _ in procs]
        wall = time.perf_counter() - start
    for p in procs:
        p.join()
    times = sorted(t for ts, _ in results for t in ts)
    calls = sum(c for _, c in results)
    return (statistics.median(times) * 1000, times[int(0.9 * (len(times) - 1))] * 1000,
            len(times) / wall, calls / len(times), calls / wall, sessions.peak)


@contextlib.contextmanager
def database(url):
    """A new database on url's server; yields its URL, dropped afterwards."""
    name = f"dnnsweep_bench_{uuid.uuid4().hex[:10]}"
    admin(url, f'CREATE DATABASE "{name}"')
    try:
        yield sqlalchemy.engine.make_url(url).set(database=name).render_as_string(
            hide_password=False)
    finally:
        admin(url, f'DROP DATABASE "{name}" WITH (FORCE)')


@contextlib.contextmanager
def storage_proxy(db_url):
    """dnn-storage-proxy in front of db_url; yields its grpc:// URL."""
    port = 20000 + os.getpid() % 20000
    server = subprocess.Popen([sys.executable, "-m", "search.cli.storage_proxy", db_url,
                               "--port", str(port)], stdout=subprocess.DEVNULL, cwd=REPO)
    try:
        time.sleep(8)  # the proxy's imports; make_storage waits 10 s more
        yield f"grpc://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default=DEFAULT_URL)
    p.add_argument("--workers", default="1,2,4,8,16,32")
    p.add_argument("--trials", type=int, default=8, help="rounds per worker (default 8)")
    p.add_argument("--no-proxy", action="store_true")
    args = p.parse_args()
    ways = ["direct"] + ([] if args.no_proxy else ["proxy"])
    print(f"load average before: {load1():.1f}")
    print("| way | workers | median ms per trial | p90 ms | trials/s | storage calls per trial "
          "| storage calls/s | peak db sessions |\n| --- | --- | --- | --- | --- | --- | --- | --- |")
    for way in ways:
        for workers in map(int, args.workers.split(",")):
            with database(args.url) as db_url, \
                    storage_proxy(db_url) if way == "proxy" else contextlib.nullcontext(db_url) as url:
                median, p90, rate, per_trial, calls, peak = one_row(url, db_url, workers,
                                                                    args.trials)
            print(f"| {way} | {workers} | {median:.1f} | {p90:.1f} | {rate:.1f} | "
                  f"{per_trial:.1f} | {calls:.0f} | {peak} |", flush=True)
    print(f"load average after: {load1():.1f}")


if __name__ == "__main__":
    main()
