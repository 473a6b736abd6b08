"""trials.csv of a study (search/report/tables.py) from a real in-memory Optuna study."""
import io
import warnings

import optuna
import pandas as pd
import pytest

from search.report.tables import trials_frame


@pytest.fixture
def study():
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    s = optuna.create_study(directions=["minimize", "minimize"])
    s.set_metric_names(["val_cost", "n_parameters"])
    values = iter([(0.3, 120), None, (0.2, 90)])
    # one trial with two layers and one with one, whatever the sampler draws: the column of
    # the second layer's units exists and has an empty cell
    s.enqueue_trial({"model.hidden_units.depth": 2, "model.hidden_units.units_2": 17})
    s.enqueue_trial({"model.hidden_units.depth": 1})

    def objective(trial):
        depth = trial.suggest_int("model.hidden_units.depth", 1, 2)
        for i in range(depth):
            trial.suggest_int(f"model.hidden_units.units_{i + 1}", 2, 32, log=True)
        trial.suggest_categorical("train.batch_size", [None, 64])
        trial.suggest_float("train.learning_rate", 1e-3, 1.0, log=True)
        trial.set_user_attr("mlflow_run_id", f"run{trial.number}")
        trial.set_user_attr("owner", "host:1")
        v = next(values)
        if v is None:
            raise optuna.TrialPruned()
        trial.set_user_attr("metrics", {"val_cost": v[0], "val_accuracy": 0.8,
                                        "train_accuracy": 0.9})
        return v

    s.optimize(objective, n_trials=3)
    return s


def test_one_typed_column_per_parameter_metric_and_objective(study):
    df = pd.read_csv(io.StringIO(trials_frame(study).to_csv(index=False)))
    assert list(df["state"]) == ["COMPLETE", "PRUNED", "COMPLETE"]
    assert list(df["values_val_cost"].fillna(-1)) == [0.3, -1, 0.2]
    assert "values_0" not in df and "value" not in df and "val_cost" not in df
    assert list(df["val_accuracy"].fillna(-1)) == [0.8, -1, 0.8]
    assert list(df["mlflow_run_id"]) == ["run0", "run1", "run2"]
    assert "owner" not in df and "user_attrs_metrics" not in df
    # Integers stay integers, in the CSV too, even where a trial lacks the parameter.
    text = trials_frame(study).to_csv(index=False)
    units = [t.params.get("model.hidden_units.units_2") for t in study.trials]
    cells = pd.read_csv(io.StringIO(text), dtype=str)["params_model.hidden_units.units_2"]
    assert [None if pd.isna(c) else int(c) for c in cells] == units
    assert all(pd.isna(c) or "." not in c for c in cells)
    batch = pd.read_csv(io.StringIO(text), dtype=str)["params_train.batch_size"]
    assert all(pd.isna(c) or c == "64" for c in batch)
    assert (df["duration_s"] >= 0).all()


def test_the_best_trials_table_keeps_long_metric_names_over_their_columns():
    from search.report.tables import summary_table

    s = optuna.create_study(direction="maximize")
    dims = {"train.learning_rate": {"type": "float", "low": 1e-3, "high": 1.0, "log": True}}
    for rate, score in [(0.01, 0.61), (0.1, 0.74)]:
        s.add_trial(optuna.trial.create_trial(
            params={"train.learning_rate": rate}, value=score,
            distributions={"train.learning_rate": optuna.distributions.FloatDistribution(
                1e-3, 1.0, log=True)},
            user_attrs={"mlflow_run_id": f"run{rate}", "metrics": {"val_accuracy": 0.7}}))
    lines = summary_table(s, ["val_balanced_accuracy"], dims, [], 5)
    header, first = lines[1], lines[2]
    assert header.split() == ["#", "val_balanced_accuracy", "val_accuracy", "MLflow", "run",
                              "params"]
    # each value ends where its column's name ends
    for name, value in [("val_balanced_accuracy", "0.74"), ("val_accuracy", "0.7")]:
        end = header.index(name) + len(name)
        assert first[:end].endswith(value), (header, first)


def test_a_warm_start_copy_in_the_best_trials_table_names_the_trial_it_copies():
    from search import links
    from search.report.tables import summary_table

    s = optuna.create_study()
    dims = {"train.learning_rate": {"type": "float", "low": 1e-3, "high": 1.0, "log": True}}
    dist = {"train.learning_rate": optuna.distributions.FloatDistribution(1e-3, 1.0, log=True)}
    s.add_trial(optuna.trial.create_trial(params={"train.learning_rate": 0.1}, value=0.2,
                                          distributions=dist,
                                          user_attrs={links.WARM_START: "wide#43"}))
    s.add_trial(optuna.trial.create_trial(params={"train.learning_rate": 0.2}, value=0.3,
                                          distributions=dist))
    rows = summary_table(s, ["val_cost"], dims, [], 5)[2:4]
    assert "(warm start: wide#43) train.learning_rate=0.1" in rows[0]
    assert "warm start" not in rows[1]


def test_the_rerun_command_carries_the_trials_settings_unless_given_or_sampled():
    from search.report.tables import summary_table

    s = optuna.create_study()
    dims = {"train.learning_rate": {"type": "float", "low": 1e-3, "high": 1.0, "log": True}}
    dist = {"train.learning_rate": optuna.distributions.FloatDistribution(1e-3, 1.0, log=True)}
    s.add_trial(optuna.trial.create_trial(params={"train.learning_rate": 0.1}, value=0.2,
                                          distributions=dist))
    settings = ["train.patience=10", "train.dtype=float32", "train.learning_rate=0.3"]
    command = summary_table(s, ["val_cost"], dims, ["data=digits", "train.dtype=float64"], 5,
                            trial_settings=settings)[-2].split()
    assert command == ["dnn-train", "data=digits", "train.dtype=float64", "train.patience=10",
                       "train.learning_rate=0.1"]
