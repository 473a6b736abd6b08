"""The selection metrics for small and imbalanced data pass a sweep's checks (bad values:
tests/search/config/test_schema.py)."""
import pytest

from search.config.compose import compose_checked
from search.study.study import check_sweep_config


@pytest.mark.parametrize("metric", ["val_balanced_accuracy", "val_auc", "val_accuracy"])
def test_the_scores_for_small_and_imbalanced_data_are_selection_metrics(metric):
    compose_checked("sweep", [f"search.metric={metric}", "search.direction=maximize"],
                    check_sweep_config)


def test_the_confirmation_settings_are_off_by_default():
    cfg = compose_checked("sweep", [], check_sweep_config)
    assert cfg.search.confirm.top_k == 0 and cfg.search.confirm.seeds == 3
