"""A study's finished trials kept by the process that read them, so that reading a big
study (each count, ask and sampler step) costs the trials that changed since the last read,
not the whole study: on Optuna's public RDBStorage API.

A finished trial no longer changes (Optuna refuses to update one), so it is read once. A
study of fewer than SMALL finished trials is read whole (one query per table, cheaper than
trial by trial). Past that, each read takes the unfinished trials (RUNNING, WAITING) in one
query, then each trial finished since the last read by its number (trial numbers are
0..n-1 in a study: a few queries per trial), and reads the whole study again when more than
1/WHOLE of it is missing (a process's first read).
"""
import itertools
import threading

from optuna.trial import TrialState

UNFINISHED = (TrialState.RUNNING, TrialState.WAITING)
SMALL = 256  # finished trials under which a study is read whole
WHOLE = 32   # read the study whole when more than 1/WHOLE of it is missing from the cache


class FinishedTrials:
    def __init__(self, small=SMALL):
        self.studies = {}  # study_id -> {number: finished FrozenTrial}
        self.lock = threading.Lock()
        self.small = small

    def read(self, rdb, study_id):
        """Every trial of the study by number, as rdb.get_all_trials(deepcopy=False) gives
        them (shared objects: not to be changed)."""
        with self.lock:
            finished = dict(self.studies.get(study_id, {}))
        found = unfinished = None
        if len(finished) >= self.small:
            unfinished = {t.number: t for t in
                          rdb.get_all_trials(study_id, deepcopy=False, states=UNFINISHED)}
            found = self._missing(rdb, study_id, finished.keys() | unfinished.keys(),
                                  max(1, len(finished) // WHOLE))
        if found is None:
            trials = {t.number: t for t in rdb.get_all_trials(study_id, deepcopy=False)}
        else:  # a trial finished since the unfinished ones were read is finished
            trials = {**unfinished, **found, **finished}
        with self.lock:
            cache = self.studies.setdefault(study_id, {})
            cache.update((n, t) for n, t in trials.items() if t.state.is_finished())
        return [trials[n] for n in sorted(trials)]

    def forget(self, study_id):
        with self.lock:
            self.studies.pop(study_id, None)

    @staticmethod
    def _missing(rdb, study_id, known, most):
        """{number: trial} of the study's trials whose numbers are not in known: the gaps
        below its highest number, then those above it; None past most of them."""
        top = max(known, default=-1)
        if top + 1 - len(known) > most:
            return None
        gaps = (n for n in range(top + 1) if n not in known)
        found = {}
        for number in itertools.chain(gaps, itertools.count(top + 1)):
            if len(found) >= most:
                return None
            try:
                trial_id = rdb.get_trial_id_from_study_id_trial_number(study_id, number)
            except KeyError:
                if number > top:
                    break  # past the study's last trial
                continue  # numbered but not yet visible: the next read finds it
            found[number] = rdb.get_trial(trial_id)
        return found
