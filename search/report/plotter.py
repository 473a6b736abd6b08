"""Optuna's plots drawn by a helper process that loads the plotting stack while trials run."""
import multiprocessing
import signal

import optuna

from search.report import tables

# Drawn by the helper (importances need scikit-learn); the rest is drawn here meanwhile.
HELPER_PLOTS = ("param_importances", "parallel_coordinate", "intermediate_values")
DRAW_TIMEOUT = 300  # seconds: a helper this slow is stuck; its plots are drawn here instead
# Seconds the helper waits before importing: a sweep's first seconds are its busiest (the
# workers' own imports, the parent run); a sweep that ends sooner gets its plots anyway.
IMPORT_DELAY = 10.0


def _serve(conn):
    """The helper: import, then draw each (trials, directions, folder, names) it is sent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the sweep still wants its plots
    conn.poll(IMPORT_DELAY)
    tables.import_plotting()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    while True:
        try:
            trials, directions, folder, names = conn.recv()
        except EOFError:  # the sweep has ended (or died): nothing more to draw
            return
        study = optuna.create_study(directions=directions)
        study.add_trials(trials)
        conn.send(tables.write_plots(study, folder, names))


class Plotter:
    """Start one at the beginning of a sweep; draw() at its end. The helper's imports
    (~2.5 s) overlap the study instead of delaying its end, and the five plots are drawn
    by two processes at once. If the helper is gone, everything is drawn here."""

    def __init__(self):
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child,), name="plotter", daemon=True)
        self._proc.start()
        child.close()
        self.helped = False  # True once the helper has drawn its share

    def draw(self, study, folder):
        """(written paths, skipped notes) for all of tables.PLOTS, in that order."""
        S = optuna.trial.TrialState
        trials = [t for t in study.get_trials(deepcopy=False)
                  if t.state in (S.COMPLETE, S.PRUNED, S.FAIL)]
        helper_names = HELPER_PLOTS
        try:
            self._conn.send((trials, study.directions, str(folder), helper_names))
        except (OSError, ValueError):
            helper_names = ()
        own = [n for n in tables.PLOTS if n not in helper_names]
        written, skipped = tables.write_plots(study, folder, own)
        if helper_names:
            try:
                if not self._conn.poll(DRAW_TIMEOUT):
                    raise TimeoutError
                more_written, more_skipped = self._conn.recv()
                self.helped = True
            except (OSError, EOFError, TimeoutError):
                more_written, more_skipped = tables.write_plots(study, folder, helper_names)
            written += more_written
            skipped += more_skipped
        order = {name: i for i, name in enumerate(tables.PLOTS)}
        written.sort(key=lambda p: order[p.stem])
        return written, skipped

    def close(self):
        """Stop the helper; it holds nothing that needs a clean exit (its plots are files)."""
        self._conn.close()
        self._proc.terminate()
        self._proc.join(timeout=5)
