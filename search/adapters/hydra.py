"""Hydra's reading of a command line (its flags and overrides) before Hydra runs the app.

Hydra 1.3 has no public parser: hydra.main parses sys.argv itself. The command line is
composed and checked in-process first (search.cli.common.precheck), so it needs the same
reading of the same flags (--help, --cfg, -m, the overrides), which only
hydra._internal.utils.get_args_parser gives.
"""
from hydra._internal.utils import get_args_parser


def parse_args(argv):
    """Hydra's argparse.Namespace of argv: .overrides, .help, .hydra_help, .info, ..."""
    return get_args_parser().parse_args(argv)
