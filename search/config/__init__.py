"""The config schema: one module per group, registered with Hydra's ConfigStore.

data (dnn.data.settings), model, train, tracking, cv: a run; search (and its space's
dimension kinds): a sweep. check_run_config types and range-checks a run's config;
compose_checked composes and checks a command line in-process.
"""
from search.config.errors import ConfigError
from search.config.paths import conf_dir
from search.config.run import (
           GROUPS,
           base_run_config,
           check_run_config,
           fit_kwargs,
           flatten,
           run_config,
)
from search.config.store import register
from search.config.stored import check_no_foreign_targets, check_no_interpolations
from search.config.tracking import default_tracking

register()

__all__ = ["ConfigError", "GROUPS", "check_no_foreign_targets", "check_no_interpolations",
           "check_run_config", "conf_dir", "default_tracking", "fit_kwargs", "flatten",
           "register", "run_config"]
