"""dnn-storage-proxy: Optuna's gRPC storage proxy in front of a study database.

    dnn-storage-proxy postgresql+psycopg2://user:pw@db/studies [--host H] [--port P]

Workers then use search.storage=grpc://H:P and hold no database connection: the database
sees the proxy's connections only (at most --threads). The proxy opens the database through
dnnsweep's retrying storage (search.storage.rdb), so a database restart is waited out
behind it. Binds 127.0.0.1 unless asked otherwise; SIGTERM or Ctrl-C stops it cleanly.
"""
import argparse
import signal
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor

import optuna

from search.cli.common import EXIT_FAILED, fail
from search.cli.ui import check_bindable
from search.config import ConfigError
from search.secrets import mask
from search.storage.stores import make_storage
from search.storage.urls import is_rdb

DEFAULT_PORT = 13000  # Optuna's own default


class Stop(Exception):
    """SIGTERM or SIGINT reached the proxy."""


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="dnn-storage-proxy",
        description="Serve a study database to workers through Optuna's gRPC storage proxy "
                    "(workers: search.storage=grpc://HOST:PORT).")
    p.add_argument("storage", metavar="STORAGE_URL",
                   help="the study database (postgresql+psycopg2://..., mysql://...)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0 for "
                        "workers on other machines)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--threads", type=int, default=10,
                   help="requests served at once, and so database connections at most "
                        "(default 10)")
    return p.parse_args(argv)


def check_args(args):
    if not 1 <= args.port <= 65535:
        fail(f"--port {args.port}: allowed 1-65535")
    if args.threads < 1:
        fail(f"--threads {args.threads}: allowed a positive integer")
    if not is_rdb(args.storage):
        fail(f"STORAGE_URL {args.storage!r}: allowed a database URL "
             "(postgresql+psycopg2://..., mysql://..., sqlite:///...); Optuna's proxy serves "
             "no journal file")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    check_args(args)
    try:
        import grpc  # noqa: F401 - Optuna's proxy server needs it (the grpc extra)
    except ImportError:
        fail("dnn-storage-proxy needs grpcio: pip install 'dnnsweep[grpc]'")
    try:
        check_bindable(args.host, args.port)
    except OSError as e:
        fail(f"cannot serve on {args.host}:{args.port}: {e.strerror or e}", EXIT_FAILED)
    try:
        storage = make_storage(args.storage, None, None)
    except ConfigError as e:
        fail(str(e))

    def on_signal(signum, frame):
        raise Stop

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    address = f"{args.host}:{args.port}"
    try:
        print(f"dnn-storage-proxy: {mask(args.storage)} served at grpc://{address} "
              f"({args.threads} threads; workers: search.storage=grpc://{address}; "
              "Ctrl-C to stop)", flush=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.run_grpc_proxy_server(
                storage, host=args.host, port=args.port,
                thread_pool=ThreadPoolExecutor(max_workers=args.threads))
    except Stop:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second Ctrl-C: no traceback
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("dnn-storage-proxy stopped", flush=True)
        return 0
    except RuntimeError as e:  # grpc: the port cannot be bound after all
        fail(f"cannot serve on {address}: {mask(str(e))}", EXIT_FAILED)
    return 0


if __name__ == "__main__":
    sys.exit(main())
