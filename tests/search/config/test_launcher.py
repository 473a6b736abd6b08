"""The search/launcher group's schema and checks, composed in-process with Hydra's API."""
import socket

import pytest

from search.config import ConfigError
from search.config.compose import compose_checked
from search.config.launcher import check_launcher
from search.study.study import check_sweep_config
from search.sweep.engines import check_engine


def composed(*overrides):
    return compose_checked("sweep", list(overrides), check_sweep_config)


def test_local_is_the_default_and_each_launcher_has_its_schema():
    assert composed().search.launcher.name == "local"
    slurm = composed("search/launcher=slurm", "search.launcher.executor=local").search.launcher
    assert (slurm.time_min, slurm.cpus_per_worker, slurm.wait) == (240, 1, True)
    assert composed("search/launcher=dask").search.launcher.address is None


@pytest.mark.parametrize("overrides, text", [
    (["search/launcher=slurm", "search.launcher.executor=local", "search.launcher.partitionn=a"],
     "Key 'partitionn' not in 'SlurmLauncherSchema'"),
    (["search/launcher=slurm", "search.launcher.executor=pbs"],
     "search.launcher.executor='pbs': must be one of slurm, local"),
    (["search/launcher=slurm", "search.launcher.executor=local", "search.launcher.time_min=0"],
     "search.launcher.time_min"),
    (["search/launcher=slurm", "search.launcher.executor=local", "search.launcher.mem_gb=-1"],
     "search.launcher.mem_gb"),
    (["search/launcher=dask", "search.launcher.address=localhost"],
     "search.launcher.address='localhost': must be a scheduler address"),
    (["search.workers=1000"], "must be at most"),
    (["search/launcher=dask", "search.workers=2000"], "search.workers=2000"),
])
def test_a_bad_launcher_value_is_refused_naming_the_key(overrides, text):
    with pytest.raises(ConfigError, match=text.replace("(", r"\(").replace("[", r"\[")):
        composed(*overrides)


SLURM = ["search/launcher=slurm", "search.launcher.executor=local"]
# (launcher, key, bad value): one bad value for every key of every launcher's schema
BAD_KEYS = [
    ("slurm", "executor", "pbs"), ("slurm", "partition", "''"), ("slurm", "time_min", "0"),
    ("slurm", "cpus_per_worker", "0"), ("slurm", "mem_gb", "0"), ("slurm", "parallelism", "0"),
    ("slurm", "log_dir", "''"), ("slurm", "wait", "maybe"), ("slurm", "name", "pbs"),
    ("dask", "address", "localhost"), ("dask", "connect_timeout", "0"), ("dask", "wait", "maybe"),
    ("dask", "name", "ray"), ("follow", "poll_seconds", "-1"), ("follow", "name", "x"),
    ("local", "name", "ray"),
]


@pytest.mark.parametrize("launcher, key, value", BAD_KEYS)
def test_every_launcher_key_refuses_a_bad_value_naming_it(launcher, key, value):
    base = SLURM if launcher == "slurm" else [f"search/launcher={launcher}"]
    with pytest.raises(ConfigError, match=f"search.launcher.{key}"):
        composed(*base, f"search.launcher.{key}={value}")


def test_every_key_of_every_launcher_schema_has_a_bad_value_test():
    from dataclasses import fields

    from search.config.launcher import BASES

    keys = {(s.__dataclass_fields__["name"].default, f.name) for s in BASES.values()
            for f in fields(s)}
    assert keys == {(launcher, key) for launcher, key, _ in BAD_KEYS}


def test_slurm_without_sbatch_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch here
    with pytest.raises(ConfigError, match="sbatch is not on this machine's PATH"):
        check_launcher({"name": "slurm", "executor": "slurm", "partition": None, "time_min": 1,
                        "cpus_per_worker": 1, "mem_gb": 1.0, "parallelism": None,
                        "log_dir": "x", "wait": True})


def test_a_dask_address_that_does_not_answer_is_refused_within_its_timeout():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = composed("search/launcher=dask", f"search.launcher.address=tcp://127.0.0.1:{port}",
                   "search.launcher.connect_timeout=2")
    with pytest.raises(ConfigError, match=f"search.launcher.address='tcp://127.0.0.1:{port}': "
                                          "no Dask scheduler answers there"):
        check_engine(cfg.search.launcher)


def test_leaving_a_local_dask_cluster_is_refused():
    cfg = composed("search/launcher=dask", "search.launcher.wait=false")
    with pytest.raises(ConfigError, match="search.launcher.wait=false: a local Dask cluster"):
        check_engine(cfg.search.launcher)
