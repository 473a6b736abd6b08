"""search/adapters/hydra.py: the one use of Hydra's internals, and that Hydra still has it."""
import importlib

from search.adapters.hydra import parse_args


def test_hydra_still_has_its_command_line_parser_where_the_adapter_reads_it():
    utils = importlib.import_module("hydra._internal.utils")
    assert hasattr(utils, "get_args_parser"), (
        "Hydra moved hydra._internal.utils.get_args_parser: update search/adapters/hydra.py")


def test_flags_and_overrides_are_read_as_hydra_reads_them():
    args = parse_args(["-m", "--cfg", "job", "search.n_trials=3", "+x=1"])
    assert args.overrides == ["search.n_trials=3", "+x=1"]
    assert args.multirun and args.cfg == "job" and not args.help
    assert parse_args(["--help"]).help and parse_args(["--info"]).info
