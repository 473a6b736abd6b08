"""dnn-reproduce: re-train a tracked run from its stored config and compare the cost curves."""
import argparse
import sys
import tempfile

from dnn import DivergenceError
from dnn.data import DataError
from dnn.data.registry import settings_class
from search.cli.common import EXIT_FAILED, fail
from search.config import (
    ConfigError,
    check_no_foreign_targets,
    check_no_interpolations,
    check_run_config,
    default_tracking,
)
from search.run.train import train_run
from search.secrets import mask
from search.tracking.client import metric_history, open_run

TOLERANCE = 0.0  # same machine, same BLAS: the curves must be identical


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="dnn-reproduce",
        description="Re-train an MLflow run from its stored config.yaml, log it as a new run "
                    "tagged reproduced_from=RUN_ID, and compare the two train_cost curves "
                    "(exit 0 when they agree on every common iteration).")
    p.add_argument("run_id", help="the MLflow run to reproduce")
    p.add_argument("overrides", nargs="*",
                   help="key=value changes on top of the stored config, e.g. "
                        "train.num_iterations=5000; tracking.register=NAME registers the new "
                        "run's model (the stored run's registration is not repeated)")
    p.add_argument("--config-only", action="store_true", help="print the stored config and exit")
    p.add_argument("--tracking-uri", help="the MLflow store of the run, where the new run goes "
                                          "too (the same as the override tracking.uri=URI; "
                                          "default: $MLFLOW_TRACKING_URI, else the local store "
                                          "sqlite:///mlruns/mlflow.db)")
    p.add_argument("--tolerance", type=float, default=TOLERANCE,
                   help="largest absolute cost difference still counted as agreement (default 0)")
    return p.parse_args(argv)


def stored_config(client, run_id):
    """The run's config.yaml as data: valid YAML, a mapping of the run's groups, no
    interpolation or resolver, no foreign _target_ (ConfigError otherwise)."""
    from omegaconf import OmegaConf


    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = client.download_artifacts(run_id, "config.yaml", tmp)
        except Exception:
            fail(f"run {run_id} has no config.yaml artifact: it was not logged by dnnsweep")
        try:
            cfg = OmegaConf.load(path)
        except Exception as e:  # noqa: BLE001 - YAML's errors: reported in one line
            raise ConfigError(f"run {run_id}: its config.yaml is not a readable config "
                              f"({str(e).splitlines()[0]})") from None
    check_no_interpolations(cfg)
    check_no_foreign_targets(cfg)
    if not OmegaConf.is_dict(cfg) or not {"data", "model", "train"} <= set(cfg):
        raise ConfigError(f"run {run_id}: its config.yaml holds no run config (needs the "
                          "groups data, model, train)")
    return drop_legacy_data_keys(cfg)


def drop_legacy_data_keys(cfg):
    """Configs stored before the data options were grouped by data set carry n_samples,
    noise, factor, dir and path on every set: keep only those the set takes."""
    from dataclasses import fields


    schema = settings_class(cfg.data.get("name"))
    if schema is not None:
        keys = {f.name for f in fields(schema)}
        for key in ("n_samples", "noise", "factor", "dir", "path"):
            if key in cfg.data and key not in keys:
                del cfg.data[key]
    return cfg


def apply_overrides(cfg, overrides):
    from omegaconf import OmegaConf

    for item in overrides:
        if "=" not in item:
            fail(f"override {item!r} is not of the form key=value")
        key, value = item.split("=", 1)
        if OmegaConf.select(cfg, key, default="<missing>") == "<missing>":
            fail(f"override {item!r}: no key {key!r} in the stored config")
        parsed = OmegaConf.to_container(OmegaConf.from_dotlist([f"v={value}"]), resolve=False)
        OmegaConf.update(cfg, key, parsed["v"], merge=False)  # unresolved: checked as data
    return cfg


def given(overrides, key):
    """The raw value of the override key=value, or None when not given."""
    return next((item.split("=", 1)[1] for item in overrides
                 if item.split("=", 1)[0] == key and "=" in item), None)


def store_option(args):
    """(the store named on the command line, the option naming it): --tracking-uri, else
    the override tracking.uri=URI; (None, ...) when neither is given."""
    if args.tracking_uri:
        return args.tracking_uri, "--tracking-uri"
    return given(args.overrides, "tracking.uri"), "tracking.uri"


def keep_registry(cfg, overrides):
    """Reproducing touches the model registry only when asked (tracking.register=NAME on
    the command line): the stored run's own registration would move that model's champion
    alias to the reproduction. Returns the note to print when one was dropped."""
    from omegaconf import OmegaConf

    stored = OmegaConf.select(cfg, "tracking.register")
    if given(overrides, "tracking.register") is not None or not stored:
        return None
    cfg.tracking.register = None
    return (f"note: the run registered its model as {stored!r}; the reproduction is not "
            f"registered (add tracking.register={stored} to register it)")


def compare(old, new):
    """Largest absolute difference over the iterations both curves have, and their count."""
    old = dict(old)
    common = [(old[s], v) for s, v in enumerate(new) if s in old]
    return max((abs(a - b) for a, b in common), default=float("inf")), len(common)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from omegaconf import OmegaConf


    try:
        tracking = default_tracking(*store_option(args))
        client, run = open_run(tracking, args.run_id)
        cfg = apply_overrides(stored_config(client, args.run_id), args.overrides)
        check_no_interpolations(cfg)  # an override is data too
        check_run_config(cfg)
    except (LookupError, ConfigError) as e:
        fail(str(e))
    note = keep_registry(cfg, args.overrides)
    if args.config_only:
        print(mask(OmegaConf.to_yaml(cfg)), end="")
        return 0
    if note:
        print(note, file=sys.stderr)
    cfg.tracking.uri = tracking.uri
    experiment = client.get_experiment(run.info.experiment_id).name
    return retrain(cfg, args, client, run, experiment, metric_history)


def same_blas_threads(run):
    """BLAS limited to the run's threads (its numpy.blas_threads tag) while re-training: a
    product's last bits can depend on how OpenBLAS splits it among threads, and a sweep's
    workers run with fewer threads than a lone process."""
    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits

    threads = run.data.tags.get("numpy.blas_threads", "")
    return threadpool_limits(int(threads), user_api="blas") if threads.isdigit() \
        else nullcontext()


def retrain(cfg, args, client, run, experiment, metric_history):

    # A top-level run of the same experiment: nested under a study with the trial's
    # optuna.* tags, it would count as a second run of that trial.
    try:
        with same_blas_threads(run):
            result = train_run(cfg, args.overrides, tags={"reproduced_from": args.run_id},
                               experiment=experiment, run_name=f"reproduce-{args.run_id[:8]}")
    except (DataError, ValueError) as e:
        fail(str(e))
    except DivergenceError as e:
        fail(str(e), EXIT_FAILED)
    diff, n = compare(metric_history(client, args.run_id, "train_cost"), result.costs)
    print(f"new run {result.run_id} (reproduced_from={args.run_id})")
    print(f"largest absolute train_cost difference over {n} common iterations: {diff:.3g}")
    if n and diff <= args.tolerance:
        print("the cost curves agree")
        return 0
    print("the cost curves differ", file=sys.stderr)
    return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
