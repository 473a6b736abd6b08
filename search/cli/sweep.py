"""dnn-sweep: an Optuna study over the network, every trial a tracked MLflow run."""
import sys

from hydra.core.hydra_config import HydraConfig

from search.cli.common import hydra_task, fail, run_hydra_app
from search.config import ConfigError


@hydra_task
def sweep_task(cfg):
    from dnn.data import DataError

    try:
        from search.study.study import check_sweep_config, quiet_optuna
        quiet_optuna()  # before the sampler is first built: no experimental-feature notes
        dims = check_sweep_config(cfg)
        from search.run.train import load_run_data
        load_run_data(cfg)  # a missing or malformed data file fails before any store
        from search.tracking.client import check_reachable, tracking_uri
        check_reachable(tracking_uri(cfg.tracking))  # before the study is created
    except (ConfigError, DataError, ValueError) as e:
        fail(str(e))
    from search.study.sweep import sweep

    base = [o for o in HydraConfig.get().overrides.task if not o.lstrip("+~").startswith("search")]
    try:
        code = sweep(cfg, dims, base)
    except ConfigError as e:
        fail(str(e))
    if code:
        sys.exit(code)


def main():
    run_hydra_app(sweep_task, "sweep", "dnn-sweep")


if __name__ == "__main__":
    main()
