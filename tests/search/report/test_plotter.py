import pytest

"""The plot helper process draws Optuna's plots, and the sweep draws them itself without it."""
import optuna

from search.report import tables
from search.report.plotter import Plotter


def small_study():
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))

    def objective(trial):
        lr = trial.suggest_float("learning_rate", 1e-3, 1.0, log=True)
        depth = trial.suggest_int("depth", 1, 3)
        for step in range(0, 50, 10):
            trial.report(lr * depth + step * 1e-3, step)
        return lr * depth

    study.optimize(objective, n_trials=12)
    return study


@pytest.mark.slow
def test_helper_draws_every_plot_in_order(tmp_path):
    plotter = Plotter()
    try:
        written, skipped = plotter.draw(small_study(), tmp_path)
        assert plotter.helped
    finally:
        plotter.close()
    assert skipped == []
    assert [p.stem for p in written] == list(tables.PLOTS)
    assert all(p.stat().st_size > 1000 for p in written)
    assert not plotter._proc.is_alive()


@pytest.mark.slow
def test_plots_are_drawn_here_when_the_helper_is_gone(tmp_path):
    plotter = Plotter()
    plotter._proc.kill()
    plotter._proc.join()
    try:
        written, skipped = plotter.draw(small_study(), tmp_path)
    finally:
        plotter.close()
    assert skipped == []
    assert [p.stem for p in written] == list(tables.PLOTS)
    assert not plotter.helped
