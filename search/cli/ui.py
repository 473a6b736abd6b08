"""dnn-ui: the MLflow UI on the project's store, bound to 127.0.0.1 unless asked otherwise."""
import argparse
import os
import subprocess
import sys


def parse_args(argv):
    p = argparse.ArgumentParser(prog="dnn-ui", description="Open the MLflow UI on dnnsweep's store.")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=5000, help="port (default 5000)")
    p.add_argument("--tracking-uri", help="store (default: $MLFLOW_TRACKING_URI, else "
                                          "sqlite:///mlruns/mlflow.db)")
    return p.parse_args(argv)


def server_command(args, uri):
    """The mlflow server command and environment. The store URI travels in the environment
    (MLFLOW_BACKEND_STORE_URI), never in the arguments, so no password shows in `ps`."""
    from search.secrets import mask
    from search.tracking.client import _local_sqlite_path

    env = dict(os.environ, MLFLOW_BACKEND_STORE_URI=uri)
    cmd = [sys.executable, "-m", "mlflow", "server", "--host", args.host, "--port", str(args.port)]
    path = _local_sqlite_path(uri)
    if path:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    return cmd, env, mask(uri)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from search.config import default_tracking

    uri = default_tracking(args.tracking_uri).uri
    cmd, env, shown = server_command(args, uri)
    print(f"MLflow UI for {shown} at http://{args.host}:{args.port}  (Ctrl-C to stop)", flush=True)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
