"""What report.html says: one function per section, its values plain data."""
import optuna
import pytest
from hydra import compose, initialize_config_dir
from optuna.distributions import FloatDistribution

from search.config import conf_dir
from search.report import content
from search.study.study import check_sweep_config

LR = FloatDistribution(1e-3, 1.0, log=True)


@pytest.fixture
def cfg(tmp_path):
    with initialize_config_dir(conf_dir(), version_base="1.3"):
        return compose("sweep", overrides=[f"tracking.uri=sqlite:///{tmp_path}/mlflow.db"])


def lr_study(values, name="s"):
    study = optuna.create_study(study_name=name)
    for v in values:
        study.add_trial(optuna.trial.create_trial(value=v, params={"train.learning_rate": v},
                                                  distributions={"train.learning_rate": LR}))
    return study


def test_a_section_is_one_function_whose_values_reach_the_page(cfg, monkeypatch):
    monkeypatch.setattr(content, "SECTIONS", list(content.SECTIONS))

    @content.section
    def trial_count(facts):
        return {"n_complete": len(facts.ranked)}

    got = content.report_content(lr_study([0.3, 0.2]), cfg, check_sweep_config(cfg), [])
    assert got["n_complete"] == 2 and got["title"] == "Study s"
