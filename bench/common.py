"""What the benchmarks share: the machine's load and where the course's data lives."""
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load1():
    """The 1-minute load average: above ~2 on 2 cores, other work took CPU from a timing."""
    return os.getloadavg()[0]


def cat_dir():
    """The course's cat/non-cat folder ($DNNSWEEP_CAT_DIR, else ../shared/data/catvnoncat),
    or None when its two HDF5 files are not there."""
    for c in (os.environ.get("DNNSWEEP_CAT_DIR"), REPO.parent / "shared/data/catvnoncat"):
        if c and (Path(c) / "train_catvnoncat.h5").is_file() \
                and (Path(c) / "test_catvnoncat.h5").is_file():
            return Path(c)
    return None
