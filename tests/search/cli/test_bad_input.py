"""The bad-input contract of the console scripts: exit 2, one `error:` line naming the bad
value, no traceback (unless HYDRA_FULL_ERROR=1), and nothing created in any store (no Optuna
study, no MLflow run, no mlruns/ folder).

Every case runs in-process through the scripts' own main() (Hydra's app runs in this
process); test_cli_contract.py runs a few through the installed scripts as real processes.
"""
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import client_of, run_ids  # noqa: F401

UNREACHABLE = "postgresql+psycopg2://nobody@127.0.0.1:1/x"


# (id, script, arguments, exit status, text the first error line must contain)
# {files} is replaced by the folder of prepared bad files, {run} by a real run id and
# {foreign} by a run whose stored config names a foreign _target_.
CASES = [
    # malformed overrides and config groups
    ("override-without-value", "dnn-train", ["train.learning_rate"], 2, "train.learning_rate"),
    ("override-bad-syntax", "dnn-train", ["model.hidden_units=[8,"], 2, "model.hidden_units"),
    ("unknown-group-option", "dnn-train", ["data=nosuch"], 2, "nosuch"),
    ("unknown-key", "dnn-train", ["train.nosuch=1"], 2, "nosuch"),
    ("unknown-group", "dnn-train", ["+nosuch=1"], 2, "nosuch"),
    # wrong types
    ("rate-not-a-number", "dnn-train", ["train.learning_rate=abc"], 2, "abc"),
    ("iterations-not-int", "dnn-train", ["train.num_iterations=1.5"], 2, "1.5"),
    ("units-not-a-list", "dnn-train", ["model.hidden_units=wide"], 2, "model.hidden_units"),
    ("standardize-not-bool", "dnn-train", ["data.standardize=maybe"], 2, "maybe"),
    # negative or zero sizes and rates
    ("zero-iterations", "dnn-train", ["train.num_iterations=0"], 2, "num_iterations"),
    ("negative-rate", "dnn-train", ["train.learning_rate=-0.1"], 2, "learning_rate"),
    ("zero-rate", "dnn-train", ["train.learning_rate=0"], 2, "learning_rate"),
    ("zero-units", "dnn-train", ["model.hidden_units=[8,0]"], 2, "hidden_units"),
    ("no-hidden-layer", "dnn-train", ["model.hidden_units=[]"], 2, "hidden_units"),
    ("zero-batch", "dnn-train", ["train.batch_size=0"], 2, "batch_size"),
    ("zero-keep-prob", "dnn-train", ["train.keep_prob=0"], 2, "keep_prob"),
    ("zero-epochs", "dnn-train", ["train.num_epochs=0"], 2, "num_epochs"),
    ("zero-patience", "dnn-sweep", ["train.patience=0"], 2, "train.patience=0"),
    ("negative-min-delta", "dnn-sweep", ["train.min_delta=-1"], 2, "train.min_delta=-1"),
    ("unknown-stop-metric", "dnn-sweep", ["train.stop_metric=val_f1"], 2, "val_f1"),
    ("negative-lambd", "dnn-train", ["train.lambd=-1"], 2, "lambd"),
    ("val-fraction-above-1", "dnn-train", ["data.val_fraction=1.5"], 2, "val_fraction"),
    ("negative-samples", "dnn-train", ["data.n_samples=-5"], 2, "n_samples"),
    # unknown names
    ("unknown-activation", "dnn-train", ["model.activation=swish"], 2, "swish"),
    ("unknown-initializer", "dnn-train", ["model.init=glorot"], 2, "glorot"),
    ("unknown-optimizer", "dnn-train", ["train.optimizer=sgd"], 2, "sgd"),
    ("unknown-dtype", "dnn-train", ["train.dtype=float16"], 2, "float16"),
    ("unknown-sampler", "dnn-sweep", ["search/sampler=nosuch"], 2, "nosuch"),
    ("unknown-pruner", "dnn-sweep", ["search/pruner=nosuch"], 2, "nosuch"),
    ("bad-sampler-option", "dnn-sweep", ["search.sampler.n_startup_trials=abc"], 2, "abc"),
    ("unknown-metric", "dnn-sweep", ["search.metric=accuracy"], 2, "accuracy"),
    ("unknown-direction", "dnn-sweep", ["search.direction=up"], 2, "up"),
    ("zero-trials", "dnn-sweep", ["search.n_trials=0"], 2, "n_trials"),
    ("negative-workers", "dnn-sweep", ["search.workers=-1"], 2, "workers"),
    ("sweep-without-validation", "dnn-sweep", ["data.val_fraction=0"], 2, "val_fraction"),
    ("sweep-registering-every-trial", "dnn-sweep", ["tracking.register=cats"], 2,
     "tracking.register=cats"),
    # malformed search spaces
    ("space-unknown-type", "dnn-sweep", ["search.space.train.learning_rate.type=normal"], 2,
     "normal"),
    ("space-low-above-high", "dnn-sweep", ["search.space.train.learning_rate.low=2.0"], 2,
     "train.learning_rate"),
    ("space-empty-choices", "dnn-sweep", ["search.space.train.optimizer.choices=[]"], 2,
     "train.optimizer"),
    ("space-path-not-in-config", "dnn-sweep",
     ["+search.space.train.nosuch={type:float,low:0.1,high:1.0}"], 2, "train.nosuch"),
    ("space-log-from-zero", "dnn-sweep", ["search.space.train.learning_rate.low=0"], 2,
     "train.learning_rate"),
    ("space-not-a-mapping", "dnn-sweep", ["search.space.train.learning_rate=0.1"], 2,
     "train.learning_rate"),
    # data files
    ("npz-path-unset", "dnn-train", ["data=npz"], 2, "data.path"),
    ("missing-data-file", "dnn-train", ["data=npz", "data.path={files}/missing.npz"], 2,
     "missing.npz"),
    ("corrupt-data-file", "dnn-train", ["data=npz", "data.path={files}/corrupt.npz"], 2,
     "corrupt.npz"),
    ("npz-wrong-keys", "dnn-train", ["data=npz", "data.path={files}/wrong_keys.npz"], 2,
     "wrong_keys.npz"),
    ("features-past-float32", "dnn-sweep", ["data=npz", "data.path={files}/huge_features.npz",
                                            "data.standardize=false"], 2,
     "train.dtype=float32: the features of data set npz reach"),
    ("features-past-float32-train", "dnn-train", ["data=npz", "train.dtype=float32",
                                                  "data.path={files}/huge_features.npz",
                                                  "data.standardize=false"], 2,
     "past its largest value 3.4e+38; allowed: train.dtype=float64"),
    ("mismatched-x-y", "dnn-train", ["data=npz", "data.path={files}/mismatched.npz"], 2,
     "mismatched.npz"),
    ("float-labels", "dnn-train", ["data=npz", "data.path={files}/float_labels.npz"], 2,
     "float_labels.npz"),
    ("test-labels-outside-classes", "dnn-train",
     ["data=npz", "data.path={files}/test_labels.npz"], 2, "test_labels.npz"),
    ("sweep-corrupt-data-file", "dnn-sweep", ["data=npz", "data.path={files}/corrupt.npz"],
     2, "corrupt.npz"),
    ("hdf5-wrong-keys", "dnn-train", ["data=cat", "data.dir={files}/cat_wrong_keys"], 2,
     "train_set_x"),
    ("hdf5-not-hdf5", "dnn-train", ["data=cat", "data.dir={files}/cat_corrupt"], 2,
     "train_catvnoncat.h5"),
    ("cat-dir-unset", "dnn-train", ["data=cat"], 2, "data.dir"),
    # stores
    ("unreachable-storage", "dnn-sweep", [f"search.storage={UNREACHABLE}"], 2,
     "127.0.0.1:1"),
    ("storage-unknown-scheme", "dnn-sweep", ["search.storage=redis://127.0.0.1:1/0"], 2,
     "redis://"),
    ("storage-grpc-without-port", "dnn-sweep", ["search.storage=grpc://127.0.0.1"], 2,
     "search.storage='grpc://127.0.0.1'"),
    # a tracking server that does not answer: seconds, not MLflow's minutes of retries
    ("train-tracking-server-down", "dnn-train", ["tracking.uri=http://127.0.0.1:1"], 2,
     "http://127.0.0.1:1"),
    ("sweep-tracking-server-down", "dnn-sweep", ["tracking.uri=http://127.0.0.1:1"], 2,
     "http://127.0.0.1:1"),
    ("reproduce-tracking-server-down", "dnn-reproduce",
     ["{run}", "--tracking-uri", "http://127.0.0.1:1"], 2, "http://127.0.0.1:1"),
    # dnn-reproduce
    ("reproduce-unknown-run", "dnn-reproduce", ["0123456789abcdef0123456789abcdef"], 2,
     "0123456789abcdef0123456789abcdef"),
    ("reproduce-foreign-target", "dnn-reproduce", ["{foreign}"], 2, "os.system"),
    ("reproduce-override-without-value", "dnn-reproduce", ["{run}", "train.learning_rate"], 2,
     "train.learning_rate"),
    ("reproduce-unknown-key", "dnn-reproduce", ["{run}", "train.nosuch=1"], 2, "train.nosuch"),
    ("reproduce-bad-value", "dnn-reproduce", ["{run}", "model.activation=swish"], 2, "swish"),
    ("reproduce-bad-tolerance", "dnn-reproduce", ["{run}", "--tolerance", "abc"], 2, "abc"),
]

# issue cases: values the schema refuses, stores that cannot be used
CASES += [
    ("seed-negative", "dnn-train", ["train.seed=-1"], 2, "train.seed=-1"),
    ("folds-above-the-smallest-class", "dnn-train", ["cv.folds=1000"], 2, "cv.folds=1000"),
    ("rate-infinite", "dnn-train", ["train.learning_rate=inf"], 2, "train.learning_rate=inf"),
    ("lambd-infinite", "dnn-train", ["train.lambd=inf"], 2, "train.lambd=inf"),
    ("beta1-one", "dnn-train", ["train.beta1=1.0"], 2, "train.beta1=1.0"),
    ("epsilon-negative", "dnn-train", ["train.epsilon=-1"], 2, "train.epsilon=-1"),
    ("cat-nan-pixel", "dnn-train", ["data=cat", "data.dir={files}/cat_nan"], 2,
     "train_catvnoncat.h5"),
    ("npz-scalar-x", "dnn-train", ["data=npz", "data.path={files}/scalar.npz"], 2, "scalar.npz"),
    ("npz-huge-label", "dnn-train", ["data=npz", "data.path={files}/huge_label.npz"], 2,
     "huge_label.npz"),
    ("storage-a-folder", "dnn-sweep", ["search.storage={files}"], 2, "search.storage"),
    ("workers-above-the-cap", "dnn-sweep", ["search.workers=100000"], 2, "search.workers"),
    ("space-choice-refused", "dnn-sweep", ["search.space.train.optimizer.choices=[sgd]"], 2,
     "sgd"),
    ("space-negative-rate", "dnn-sweep", ["search.space.train.learning_rate.low=-0.1",
                                          "search.space.train.learning_rate.log=false"], 2,
     "train.learning_rate"),
    ("space-float-optimizer", "dnn-sweep",
     ["search.space.train.optimizer={type:float,low:0.0,high:1.0}"], 2, "train.optimizer"),
    ("space-infinite-high", "dnn-sweep", ["search.space.train.lambd.high=inf"], 2,
     "train.lambd.high=inf"),
    ("sweep-tracking-uri-unknown-scheme", "dnn-sweep", ["tracking.uri=foo://x"], 2, "foo://x"),
    ("reproduce-tracking-uri-unknown-scheme", "dnn-reproduce",
     ["{run}", "--tracking-uri", "foo://x"], 2, "foo://x"),
    ("reproduce-resolver", "dnn-reproduce", ["{secret}"], 2, "tracking.experiment"),
    ("reproduce-override-resolver", "dnn-reproduce",
     ["{run}", "tracking.experiment=${oc.env:HOME}"], 2, "tracking.experiment"),
    ("reproduce-invalid-yaml", "dnn-reproduce", ["{invalid}"], 2, "not a readable config"),
    ("reproduce-empty-config", "dnn-reproduce", ["{empty}"], 2, "holds no run config"),
    ("reproduce-unresolvable", "dnn-reproduce", ["{unresolvable}"], 2, "${nosuch.key}"),
]

# names a store refuses (search.config.names): before any training, not after
CASES += [
    ("train-register-slash", "dnn-train", ["tracking.register=a/b"], 2,
     "tracking.register='a/b'"),
    ("train-register-too-long", "dnn-train", ["tracking.register=" + "m" * 257], 2,
     "tracking.register="),
    ("train-experiment-too-long", "dnn-train", ["tracking.experiment=" + "e" * 300], 2,
     "tracking.experiment="),
    ("sweep-refit-register-colon", "dnn-sweep", ["search.refit=true", "search.register=a:b"],
     2, "search.register='a:b'"),
    ("sweep-refit-register-from-the-study-name", "dnn-sweep",
     ["search.refit=true", "search.study_name=cats/v2"], 2, "search.register='cats/v2'"),
    ("sweep-study-name-too-long", "dnn-sweep", ["search.study_name=" + "s" * 300], 2,
     "search.study_name="),
    ("reproduce-register-slash", "dnn-reproduce", ["{run}", "tracking.register=a/b"], 2,
     "tracking.register='a/b'"),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Bad data files of every kind."""
    import h5py

    d = tmp_path_factory.mktemp("bad_files")
    rng = np.random.RandomState(0)
    X, y = rng.randn(40, 3), rng.randint(0, 2, 40)
    (d / "corrupt.npz").write_bytes(b"PK\x03\x04 this is not a zip archive")
    np.savez(d / "wrong_keys.npz", features=X, labels=y)
    np.savez(d / "mismatched.npz", X=X, y=y[:30])
    np.savez(d / "float_labels.npz", X=X, y=y + 0.5)
    np.savez(d / "test_labels.npz", X=X, y=y, X_test=X[:5], y_test=np.array([0, 1, 7, 1, 0]))
    np.savez(d / "scalar.npz", X=np.float64(1.0), y=np.array([0]))
    np.savez(d / "huge_label.npz", X=X, y=np.r_[y[:-1], 10**12])
    np.savez(d / "huge_features.npz", X=X * 1e300, y=y)
    (d / "cat_wrong_keys").mkdir()
    for name in ("train_catvnoncat.h5", "test_catvnoncat.h5"):
        with h5py.File(d / "cat_wrong_keys" / name, "w") as f:
            f["images"] = np.zeros((4, 8, 8, 3), dtype=np.uint8)
    (d / "cat_corrupt").mkdir()
    for name in ("train_catvnoncat.h5", "test_catvnoncat.h5"):
        (d / "cat_corrupt" / name).write_bytes(b"not hdf5 at all")
    (d / "cat_nan").mkdir()
    x = np.zeros((6, 4, 4, 3))
    x[3, 0, 0, 0] = np.nan
    with h5py.File(d / "cat_nan" / "train_catvnoncat.h5", "w") as f:
        f["train_set_x"], f["train_set_y"] = x, np.array([0, 1, 0, 1, 0, 1])
        f["list_classes"] = np.array([b"non-cat", b"cat"])
    with h5py.File(d / "cat_nan" / "test_catvnoncat.h5", "w") as f:
        f["test_set_x"], f["test_set_y"] = np.zeros((2, 4, 4, 3)), np.array([0, 1])
    return d


def optuna_studies(cwd):
    path = Path(cwd) / "mlruns" / "optuna.journal"
    if not path.exists():
        return []
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    return optuna.get_all_study_names(JournalStorage(JournalFileBackend(str(path))))


def main_of(script):
    from search.cli import reproduce, sweep, train

    return {"dnn-train": train.main, "dnn-sweep": sweep.main, "dnn-reproduce": reproduce.main}[script]


def run_in_process(script, args, monkeypatch, capsys):
    """(exit status, stdout, stderr) of the script's main() run in this process."""
    monkeypatch.setattr(sys, "argv", [script, *args])
    try:
        code = main_of(script)(args) if script == "dnn-reproduce" else main_of(script)()
    except SystemExit as e:
        code = e.code
    out = capsys.readouterr()
    return code or 0, out.out, out.err


def resolve_args(args, files, ids):
    for key, value in {"files": files, **ids}.items():
        args = [a.replace("{" + key + "}", str(value)) for a in args]
    return args


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_rejected_with_one_clear_line_and_no_store_touched(
        case, files, reproduce_store, tmp_path, monkeypatch, capsys):
    name, script, args, status, bad = case
    cwd, ids = reproduce_store if script == "dnn-reproduce" else (tmp_path, {})
    monkeypatch.chdir(cwd)
    # unset during the case and restored after it (mlflow.set_tracking_uri sets it)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "")
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    # the storage's wait for a database that is restarting: not for a refused port
    monkeypatch.setenv("DNNSWEEP_DB_RETRY_SECONDS", "5")
    before = run_ids(cwd)
    code, out, err = run_in_process(script, resolve_args(args, files, ids), monkeypatch, capsys)
    assert code == status, f"exit {code}\n{out}\n{err}"
    assert "Traceback" not in err + out, err
    errors = [line for line in err.splitlines() if re.match(r"(\S+: )?error: ", line)]
    assert len(errors) == 1, err
    assert bad in errors[0], f"the error line does not name {bad!r}:\n{err}"
    assert "hunter2" not in err + out
    if script != "dnn-reproduce":
        assert not (Path(cwd) / "mlruns").exists(), "bad input must not create a store"
    assert run_ids(cwd) == before, "bad input must not create an MLflow run"
    assert optuna_studies(cwd) == [], "bad input must not create a study"
    assert not (Path(cwd) / "pwned.txt").exists()
