"""Shared fixtures: where the course's data lives, small random problems; how the suite
shares the machine's cores."""
import os
from pathlib import Path

# The suite runs on pytest-xdist workers, one per core (pyproject's addopts): each worker,
# and every command it starts, keeps to one BLAS thread. Two workers whose BLAS each spins
# two threads on two cores wait on each other at every product (5-10x slower here).
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = "1"

# The suite passes whatever MLflow settings the user has exported (MLFLOW_TRACKING_URI to a
# shared server, credentials, ...): none reaches a test or a command it starts. A test that
# wants one sets its own (monkeypatch.setenv, or run_cli's env).
for _var in [v for v in os.environ if v.startswith("MLFLOW_")]:
    del os.environ[_var]

import numpy as np  # noqa: E402
import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
MAX_WORKERS = 4  # the sweeps under test start workers of their own


def pytest_xdist_auto_num_workers(config):
    """-n auto: one worker per core this process may use, at most MAX_WORKERS."""
    return max(1, min(len(os.sched_getaffinity(0)), MAX_WORKERS))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """--dist loadgroup on pytest >= 9.2: pytest-xdist (3.8) names a test's xdist_group by
    appending "@group" to item._nodeid, which pytest no longer reads (its node ids are
    structured: pytest-xdist#1386), so every group was silently spread over the workers.
    Append it to the id pytest does read, as xdist means to."""
    if not config.getoption("loadgroup", False) or not hasattr(items[0] if items else None, "_id"):
        return
    from _pytest.nodeid import coerce_node_id

    for item in items:
        groups = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                         for m in item.iter_markers("xdist_group")})
        if groups and item.nodeid.rfind("@") <= item.nodeid.rfind("]"):  # not yet named
            item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(groups)}")


def cat_dir():
    """The course's cat/non-cat folder: $DNNSWEEP_CAT_DIR, else ../shared/data/catvnoncat."""
    candidates = [os.environ.get("DNNSWEEP_CAT_DIR"), REPO.parent / "shared/data/catvnoncat"]
    for c in candidates:
        if c and (Path(c) / "train_catvnoncat.h5").is_file():
            return Path(c)
    return None


@pytest.fixture
def cat_data_dir():
    d = cat_dir()
    if d is None:
        pytest.skip("course data not found (set DNNSWEEP_CAT_DIR to the catvnoncat folder)")
    return d


@pytest.fixture
def binary_problem():
    rng = np.random.RandomState(0)
    X = rng.randn(4, 7)
    Y = (rng.rand(1, 7) > 0.5).astype(float)
    return X, Y


@pytest.fixture
def softmax_problem():
    rng = np.random.RandomState(1)
    X = rng.randn(4, 9)
    Y = np.eye(3)[:, rng.randint(0, 3, 9)]
    return X, Y


@pytest.fixture(autouse=True)
def _process_state_left_as_found():
    """In-process runs of the scripts change process-wide state that must not reach a later
    test: mlflow.set_tracking_uri also sets MLFLOW_TRACKING_URI in os.environ (a later
    subprocess would then write to an earlier test's store), and the scripts route the
    "dnnsweep" logger to stderr."""
    import logging

    uri = os.environ.get("MLFLOW_TRACKING_URI")
    log = logging.getLogger("dnnsweep")
    handlers, level, propagate = list(log.handlers), log.level, log.propagate
    yield
    if uri is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = uri
    log.handlers[:], log.level, log.propagate = handlers, level, propagate
