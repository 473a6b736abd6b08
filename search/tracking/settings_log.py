"""The sampler and pruner of a study may change when it is resumed; MLflow params cannot
change once logged. A launcher whose settings differ from the parent run's params logs
them again under resumed.<n>. (n counting the changes) and sets the tags
dnnsweep.sampler / dnnsweep.pruner to the classes now in use."""
import re

from search.secrets import mask
from search.tracking.client import client_for

GROUPS = ("search.sampler.", "search.pruner.")


def _compared(params, settings):
    """(this launch's sampler and pruner settings, the values the parent run's params
    last logged for them, the last resumed.<n> round)."""
    current = {k: mask(str(v)) for k, v in settings.items() if k.startswith(GROUPS)}
    rounds = [int(m.group(1)) for k in params for m in [re.match(r"resumed\.(\d+)\.", k)] if m]
    latest = max(rounds, default=0)
    shown = {k: params.get(f"resumed.{latest}.{k}" if latest else k) for k in current}
    return current, shown, latest


def changed_settings(cfg_tracking, run_id, settings):
    """{key: (the study's last value, this launch's)} of the sampler and pruner settings
    that differ from what the parent run logged last."""
    current, shown, _ = _compared(client_for(cfg_tracking).get_run(run_id).data.params,
                                  settings)
    return {k: (shown[k], v) for k, v in current.items() if shown[k] != v}


def log_changed_settings(cfg_tracking, run_id, settings):
    """settings: {dotted key: value} of this launch; returns the n used, or None when
    the parent run's params already say the same."""
    from mlflow.entities import Param, RunTag


    client = client_for(cfg_tracking)
    current, shown, latest = _compared(client.get_run(run_id).data.params, settings)
    tags = [RunTag(f"dnnsweep.{g.split('.')[1]}", current.get(f"{g}_target_", ""))
            for g in GROUPS if f"{g}_target_" in current]
    if shown == current:
        if tags:
            client.log_batch(run_id, tags=tags)
        return None
    n = latest + 1
    client.log_batch(run_id, params=[Param(f"resumed.{n}.{k}", v) for k, v in current.items()],
                     tags=tags)
    return n
