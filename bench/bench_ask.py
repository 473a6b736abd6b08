"""The time of one ask against the size of the study: "count, then ask" (under the ask lock)
and the TPE sampler's suggestion of two parameters, as a worker runs it, in a study of 100,
1,000 and 10,000 finished trials, directly on PostgreSQL and through dnn-storage-proxy.

Command (from the repository root; a PostgreSQL server that lets this user create databases):

    .venv/bin/python bench/bench_ask.py [--url postgresql+psycopg2://postgres@127.0.0.1:5432/postgres]
        [--sizes 100,1000,10000] [--asks 5] [--no-proxy]

The study is seeded with finished trials through Optuna's public API (study.add_trials of
optuna.trial.create_trial, in 8 processes at once), growing to each size in turn; at each size a worker opens the
study through dnnsweep's storage (make_storage) and asks --asks times (each trial told at
once). Printed: the first ask of a worker that just opened the study (it reads the whole
study) and the median of the others.
"""
import argparse
import contextlib
import multiprocessing as mp
import statistics
import time

import optuna
from bench_scale import DEFAULT_URL, database, storage_proxy
from common import load1
from optuna.distributions import FloatDistribution, IntDistribution

from search.storage.locks import ask_lock
from search.storage.stores import make_storage
from search.study.study import started

SPACE = {"learning_rate": FloatDistribution(1e-4, 1.0, log=True),
         "units": IntDistribution(2, 64)}


def add(db_url, numbers):
    """Finished trials, one per number, in study 'ask' (created when missing)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(db_url)
    study = optuna.create_study(study_name="ask", storage=storage, load_if_exists=True)
    study.add_trials([optuna.trial.create_trial(
        params={"learning_rate": 10 ** -(1 + (i % 30) / 10), "units": 2 + i % 63},
        distributions=SPACE, value=float((i * 7919) % 1000) / 1000) for i in numbers])
    storage.engine.dispose()


def seed(db_url, count, start, processes=8):
    """count more finished trials, added by several processes at once (each trial is a
    transaction of its own)."""
    chunks = [range(start + k, start + count, processes) for k in range(processes)]
    with mp.get_context("spawn").Pool(processes) as pool:
        pool.starmap(add, [(db_url, chunk) for chunk in chunks if chunk])


def ask_times(storage_url, asks):
    """Seconds of each of asks rounds of a worker that has just opened the study."""
    storage = make_storage(storage_url, None, None)
    study = optuna.load_study(study_name="ask", storage=storage,
                              sampler=optuna.samplers.TPESampler(seed=0))
    times = []
    for _ in range(asks):
        t0 = time.perf_counter()
        with ask_lock(storage_url):
            started(study)
            trial = study.ask()
        trial.suggest_float("learning_rate", 1e-4, 1.0, log=True)
        trial.suggest_int("units", 2, 64)
        times.append(time.perf_counter() - t0)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
    return times


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default=DEFAULT_URL)
    p.add_argument("--sizes", default="100,1000,10000")
    p.add_argument("--asks", type=int, default=5)
    p.add_argument("--no-proxy", action="store_true")
    args = p.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(f"load average before: {load1():.1f}")
    print("| trials in the study | way | first ask ms | next asks ms (median) | seeding s |\n"
          "| --- | --- | --- | --- | --- |")
    with database(args.url) as db_url:
        add(db_url, [])  # the study and its tables, before the proxy opens the database
        with contextlib.ExitStack() as stack:
            ways = [("direct", db_url)]
            if not args.no_proxy:
                ways.append(("proxy", stack.enter_context(storage_proxy(db_url))))
            have = 0
            for size in map(int, args.sizes.split(",")):
                t0 = time.perf_counter()
                seed(db_url, size - have, have)
                seeding, have = time.perf_counter() - t0, size
                for way, url in ways:
                    times = ask_times(url, args.asks)
                    have += args.asks  # the asked trials stay in the study, failed
                    print(f"| {size} | {way} | {times[0] * 1000:.0f} | "
                          f"{statistics.median(times[1:]) * 1000:.0f} | {seeding:.0f} |",
                          flush=True)
    print(f"load average after: {load1():.1f}")


if __name__ == "__main__":
    main()
