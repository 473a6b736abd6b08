"""dnn-train: one Hydra-composed training run, tracked in MLflow."""
from hydra.core.hydra_config import HydraConfig

from search.cli.common import EXIT_FAILED, fail, hydra_task, run_hydra_app
from search.config import ConfigError, check_run_config


@hydra_task
def train_task(cfg):
    from search.run.train import train_run
    from dnn import DivergenceError
    from dnn.data import DataError

    try:
        check_run_config(cfg)
    except ConfigError as e:
        fail(f"invalid config: {e}")
    overrides = list(HydraConfig.get().overrides.task)
    try:
        result = train_run(cfg, overrides, progress=True)
    except (DataError, ConfigError, ValueError) as e:
        fail(str(e))
    except DivergenceError as e:
        fail(str(e), EXIT_FAILED)
    print_summary(cfg, result)
    return result.metrics.get("val_cost", result.metrics.get("test_cost"))


def print_summary(cfg, result):
    from search.tracking.client import tracking_uri
    from search.secrets import mask

    metrics = "  ".join(f"{k}={v:.4f}" for k, v in sorted(result.metrics.items()))
    print(f"final train_cost={result.costs[-1]:.6f}  {metrics}")
    print(f"MLflow run {result.run_id} in {mask(tracking_uri(cfg.tracking))}")
    print(f"open it:   dnn-ui   then http://127.0.0.1:5000 (experiment {cfg.tracking.experiment})")
    print(f"reproduce: dnn-reproduce {result.run_id}")


def main():
    run_hydra_app(train_task, "config", "dnn-train")


if __name__ == "__main__":
    main()
