"""Per-trial coordination overhead against the number of workers: what a worker pays around
each trial for sharing one study ("count, then ask" under the ask lock, then tell), with no
training in between, directly on PostgreSQL and through dnn-storage-proxy.

Command (from the repository root; a PostgreSQL server that lets this user create databases):

    .venv/bin/python bench/bench_scale.py [--url postgresql+psycopg2://postgres@127.0.0.1:5432/postgres]
        [--workers 1,2,4,8] [--trials 8] [--no-proxy]

Each row: W worker processes (started before timing, the study opened) each run --trials
rounds of `with ask_lock(url): started(study); study.ask()` then `study.tell(trial, 0.0)`
on a fresh database; the median and 90th percentile of one round's wall time, and the study's
trials per second over all workers. Through the proxy the ask lock is absent (see
docs/distributed.md).
"""
import argparse
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time
import uuid

import sqlalchemy
from common import REPO, load1

DEFAULT_URL = os.environ.get("DNNSWEEP_TEST_POSTGRES_URL",
                             "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def admin(url, sql):
    engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sqlalchemy.text(sql))
    engine.dispose()


def worker(storage_url, rounds, ready, go, out):
    import optuna

    from search.storage.locks import ask_lock
    from search.storage.stores import make_storage
    from search.study.study import started

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name="scale", storage=make_storage(storage_url, None, None))
    ready.put(True)
    go.wait()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        with ask_lock(storage_url):
            started(study)
            trial = study.ask()
        study.tell(trial, 0.0)
        times.append(time.perf_counter() - t0)
    out.put(times)


def one_row(storage_url, db_url, workers, rounds):
    import optuna

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
    start = time.perf_counter()
    go.set()
    times = [t for _ in procs for t in out.get(timeout=600)]
    wall = time.perf_counter() - start
    for p in procs:
        p.join()
    times.sort()
    return (statistics.median(times) * 1000, times[int(0.9 * (len(times) - 1))] * 1000,
            len(times) / wall)


def proxy(db_url, port):
    return subprocess.Popen([sys.executable, "-m", "search.cli.storage_proxy", db_url,
                             "--port", str(port)], stdout=subprocess.DEVNULL, cwd=REPO)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default=DEFAULT_URL)
    p.add_argument("--workers", default="1,2,4,8")
    p.add_argument("--trials", type=int, default=8, help="rounds per worker (default 8)")
    p.add_argument("--no-proxy", action="store_true")
    args = p.parse_args()
    ways = ["direct"] + ([] if args.no_proxy else ["proxy"])
    print(f"load average before: {load1():.1f}")
    print("| way | workers | median ms per trial | p90 ms | trials/s |\n| --- | --- | --- | --- | --- |")
    for way in ways:
        for workers in map(int, args.workers.split(",")):
            name = f"dnnsweep_bench_{uuid.uuid4().hex[:10]}"
            admin(args.url, f'CREATE DATABASE "{name}"')
            db_url = sqlalchemy.engine.make_url(args.url).set(database=name).render_as_string(
                hide_password=False)
            server = None
            try:
                storage_url = db_url
                if way == "proxy":
                    port = 20000 + os.getpid() % 20000
                    server = proxy(db_url, port)
                    storage_url = f"grpc://127.0.0.1:{port}"
                    time.sleep(8)  # the proxy's imports; make_storage waits 10 s more
                median, p90, rate = one_row(storage_url, db_url, workers, args.trials)
                print(f"| {way} | {workers} | {median:.1f} | {p90:.1f} | {rate:.1f} |",
                      flush=True)
            finally:
                if server is not None:
                    server.terminate()
                    server.wait(timeout=30)
                admin(args.url, f'DROP DATABASE "{name}" WITH (FORCE)')
    print(f"load average after: {load1():.1f}")


if __name__ == "__main__":
    main()
