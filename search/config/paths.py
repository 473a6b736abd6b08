"""Where the Hydra config tree lives."""
from importlib import resources
from pathlib import Path


def conf_dir():
    """The Hydra config tree: installed inside the package, or conf/ beside it in a checkout."""
    installed = resources.files("search") / "conf"
    if installed.is_dir():
        return str(installed)
    return str(Path(__file__).resolve().parents[2] / "conf")
