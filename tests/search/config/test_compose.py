"""compose_checked: a command line composed in-process, each error one line naming it."""
import pytest

from search.config import ConfigError, check_run_config
from search.config.compose import compose_checked


@pytest.mark.parametrize("overrides, message", [
    (["train.learning_rate"], "override 'train.learning_rate': Error parsing override"),
    (["model.hidden_units=[8,"], "override 'model.hidden_units=[8,': no viable alternative"),
    (["data=nosuch"], "data=nosuch: no such option; available: breast_cancer, cat, circles, "
                      "digits, moons, npz, planar"),
    (["train.nosuch=1"], "override 'train.nosuch=1': Key 'nosuch' not in 'TrainSettings' (its "
                         "keys: learning_rate, num_iterations"),
    (["train.learning_rate=abc"], "override 'train.learning_rate=abc': Value 'abc' of type "
                                  "'str' could not be converted to Float"),
    (["data=digits", "data.noise=0.3"], "override 'data.noise=0.3': Key 'noise' not in "
                                        "'TableSettings' (its keys: name, val_fraction"),
])
def test_hydras_own_errors_become_one_line_naming_the_override(overrides, message):
    with pytest.raises(ConfigError) as e:
        compose_checked("config", overrides)
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


def test_the_schema_bases_are_not_offered_as_options():
    with pytest.raises(ConfigError) as e:
        compose_checked("config", ["data=nosuch"])
    assert "base_" not in str(e.value)


def test_a_multirun_sweep_of_values_checks_each_job():
    # range() and a,b,c sweeps: every value once, the other keys at their first value
    with pytest.raises(ConfigError, match=r"train.num_iterations=0"):
        compose_checked("config", ["train.num_iterations=range(0,3)"], check_run_config)
    with pytest.raises(ConfigError, match=r"model.activation='swish'"):
        compose_checked("config", ["model.activation=relu,swish", "train.seed=1,2"],
                        check_run_config)
    cfg = compose_checked("config", ["train.seed=3,4"], check_run_config)
    assert cfg.train.seed == 3


def test_the_hydra_task_turns_an_escaping_exception_into_one_line_and_exit_1(capsys,
                                                                              monkeypatch):
    from search.cli.common import EXIT_FAILED, hydra_task

    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)

    @hydra_task
    def task(cfg):
        raise RuntimeError("the store said no\nsecond line")

    with pytest.raises(SystemExit) as e:
        task(None)
    assert e.value.code == EXIT_FAILED
    assert capsys.readouterr().err == "error: RuntimeError: the store said no\n"
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    with pytest.raises(RuntimeError):
        task(None)


def test_precheck_leaves_help_alone_and_refuses_bad_input(capsys):
    from search.cli.common import precheck

    precheck("config", ["--help", "data=nosuch"])  # Hydra prints the help
    with pytest.raises(SystemExit) as e:
        precheck("config", ["data=nosuch"])
    assert e.value.code == 2
    assert capsys.readouterr().err.startswith("error: data=nosuch: no such option")


@pytest.mark.slow
def test_help_lists_the_options_not_the_schema_bases(monkeypatch, capsys):
    import sys

    from search.cli import sweep

    monkeypatch.setattr(sys, "argv", ["dnn-sweep", "--help"])
    with pytest.raises(SystemExit) as e:
        sweep.main()
    out = capsys.readouterr().out
    assert e.value.code in (None, 0)
    assert "data: breast_cancer, cat, circles, digits, moons, npz, planar\n" in out
    assert "base_" not in out
