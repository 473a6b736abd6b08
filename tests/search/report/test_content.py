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


def narrowed_study():
    """A study narrowed from 'coarse': trials 0 and 1 copied from it, trial 2 trained here."""
    study = lr_study([], name="coarse-fine")
    study.set_user_attr("narrowed_from", "coarse")
    for i, (v, source) in enumerate([(0.2, "coarse#7"), (0.4, "coarse#3"), (0.1, None)]):
        study.add_trial(optuna.trial.create_trial(
            value=v, params={"train.learning_rate": v}, distributions={"train.learning_rate": LR},
            user_attrs={"mlflow_run_id": f"run{i}",
                        **({"warm_start_from": source} if source else {})}))
    return study


def test_a_narrowed_study_says_what_it_was_narrowed_from_and_which_trials_are_warm_starts(cfg):
    got = content.report_content(narrowed_study(), cfg, check_sweep_config(cfg), [])
    assert got["narrowed_from"] == "coarse"
    assert got["warm_starts"] == [("trial", "copied from", "val_cost", "MLflow run"),
                                  (0, "coarse#7", "0.2", "run0"), (1, "coarse#3", "0.4", "run1")]
    assert got["best"][0][-1] == "warm start from"
    assert [row[-1] for row in got["best"][1:]] == ["", "coarse#7", "coarse#3"]  # 0.1, 0.2, 0.4


def test_a_study_not_narrowed_has_no_such_section_nor_column(cfg):
    got = content.report_content(lr_study([0.3, 0.2]), cfg, check_sweep_config(cfg), [])
    assert "narrowed_from" not in got and "warm_starts" not in got
    assert got["best"][0] == ("trial", "val_cost", "MLflow run")


def test_the_refit_and_its_champion_model(cfg):
    study = lr_study([0.3, 0.2, 0.25])
    dims = check_sweep_config(cfg)
    assert "refit" not in content.report_content(study, cfg, dims, [])  # none yet
    study.set_user_attr("refit", {"trial": 1, "owner": "h:1"})  # claimed, not done
    assert "refit" not in content.report_content(study, cfg, dims, [])
    study.set_user_attr("refit", {"trial": 1, "run_id": "abc", "test_accuracy": 0.91234567,
                                  "test_accuracy_std": 0.01, "model": "models:/s@champion"})
    got = content.report_content(study, cfg, dims, [])
    assert got["refit"] == [("trial", 1), ("MLflow run", "abc"), ("test_accuracy", "0.91235"),
                            ("registered model (champion)", "models:/s@champion")]
    assert got["champion"] == "models:/s@champion" and got["refit_tested"]
    study.set_user_attr("refit", {"trial": 1, "run_id": "abc"})  # no test split, no registry
    got = content.report_content(study, cfg, dims, [])
    assert got["champion"] is None and not got["refit_tested"]


def test_the_curves_are_coloured_by_a_parameter_every_trial_has(cfg):
    """units_2 exists only in the two-layer trials: the curves are coloured by the depth."""
    from optuna.distributions import IntDistribution

    dims = check_sweep_config(cfg)
    trials = [optuna.trial.create_trial(
        value=0.1, params={"train.learning_rate": 0.01, "model.hidden_units.depth": len(units),
                           **{f"model.hidden_units.units_{k + 1}": u
                              for k, u in enumerate(units)}},
        distributions={"train.learning_rate": LR, "model.hidden_units.depth": IntDistribution(1, 4),
                       **{f"model.hidden_units.units_{k + 1}": IntDistribution(2, 32)
                          for k in range(len(units))}}) for units in ([4], [3, 2])]
    found = {"model.hidden_units.units_2": 0.6, "train.learning_rate": 0.4}
    assert content.color_by(cfg.search, dims, found, trials) == "model.hidden_units.depth"
    found = {"model.hidden_units.units_1": 0.6, "model.hidden_units.units_2": 0.4}
    assert content.color_by(cfg.search, dims, found, trials) == "model.hidden_units.units_1"
    assert content.color_by(cfg.search, dims, {"train.learning_rate": 1.0}, trials) == \
        "train.learning_rate"
