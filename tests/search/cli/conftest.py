"""The store of real and tampered runs that dnn-reproduce's bad-input cases read."""
from pathlib import Path

import pytest
from helpers import client_of, stored_run


@pytest.fixture(scope="module")
def reproduce_store(tmp_path_factory):
    """A store with one real run and runs whose config.yaml is foreign, interpolated,
    unreadable or empty."""
    from search.config.compose import compose_checked
    from search.run.train import train_run

    d = tmp_path_factory.mktemp("reproduce_store")
    cfg = compose_checked("config", ["train.num_iterations=10", "tracking.log_model=false",
                                     f"tracking.uri=sqlite:///{d}/mlruns/mlflow.db",
                                     f"tracking.artifact_root={d}/mlruns/artifacts"])
    import os

    saved = os.environ.get("MLFLOW_TRACKING_URI")
    try:
        run = train_run(cfg, progress=False).run_id
    finally:  # mlflow.set_tracking_uri sets the variable: no leak into later tests
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        if saved is not None:
            os.environ["MLFLOW_TRACKING_URI"] = saved
    client = client_of(d)
    experiment = client.get_run(run).info.experiment_id
    stored = d / "stored"
    client.download_artifacts(run, "config.yaml", str(stored.mkdir() or stored))
    text = (stored / "config.yaml").read_text()
    return d, {
        "run": run,
        "foreign": stored_run(client, experiment, text + "payload:\n  _target_: os.system\n"
                              "  _args_: ['echo pwned > pwned.txt']\n"),
        "secret": stored_run(client, experiment, text.replace(
            "experiment: dnnsweep", "experiment: ${oc.env:SECRET_TOKEN}")),
        "invalid": stored_run(client, experiment, "data: [unclosed\n  - : :"),
        "empty": stored_run(client, experiment, ""),
        "unresolvable": stored_run(client, experiment, text.replace(
            "experiment: dnnsweep", "experiment: ${nosuch.key}")),
    }
