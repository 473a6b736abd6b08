"""The options of each data set with their defaults and ranges: the one place they live.

Options are grouped by what uses them: every set takes the split options of DataSettings;
only the generated sets take n_samples and noise (circles also factor); only cat takes a
folder and only npz a file. The config schema of the `data` group is these classes; which
data set takes which is the registry's (dnn.data.registry.DATASETS).
"""
from dataclasses import dataclass, fields
from typing import Optional

from dnn.checks import INF, SEED, Flag, Integer, Number

MAX_GENERATED = 10**7  # generated points: (2, m) float64 and a few temporaries


@dataclass
class DataSettings:
    """What every data set takes: the split of a validation part and feature scaling."""
    name: str
    val_fraction: float = 0.2  # stratified validation part of the training data (0: none)
    standardize: bool = False  # scale features by the training split's mean and std
    seed: int = 1              # the split (and the points of a generated set)

    def __post_init__(self):
        Number(0, 1, high_open=True).check("val_fraction", self.val_fraction)
        Flag().check("standardize", self.standardize)
        SEED.check("seed", self.seed)

    def options(self):
        """The loader's keyword arguments: every option but the split's."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("name", "val_fraction", "standardize")}

    def source(self):
        """What error messages about the data name: the set, or its file or folder."""
        return self.name

    @classmethod
    def base(cls):
        """The name its YAML files extend (conf/data/*.yaml): base_generated for
        GeneratedSettings, registered with Hydra by search.config.store."""
        return "base_" + cls.__name__.removesuffix("Settings").lower()


@dataclass
class GeneratedSettings(DataSettings):
    """planar, moons: 2-D points generated with NumPy."""
    n_samples: int = 400   # points, half of each class
    noise: float = 0.2     # standard deviation of the Gaussian noise

    def __post_init__(self):
        super().__post_init__()
        Integer(2, MAX_GENERATED).check("n_samples", self.n_samples)
        Number(0, INF).check("noise", self.noise)


@dataclass
class CirclesSettings(GeneratedSettings):
    """circles: a small circle inside a large one."""
    noise: float = 0.1
    factor: float = 0.5    # radius of the inner circle relative to the outer one

    def __post_init__(self):
        super().__post_init__()
        Number(0, 1, low_open=True, high_open=True).check("factor", self.factor)


@dataclass
class TableSettings(DataSettings):
    """digits, breast_cancer: scikit-learn's bundled tables (no download)."""
    standardize: bool = True


@dataclass
class CatSettings(DataSettings):
    """cat: the course's HDF5 files train_catvnoncat.h5 and test_catvnoncat.h5 in dir."""
    dir: Optional[str] = None

    def source(self):
        return self.dir


@dataclass
class NpzSettings(DataSettings):
    """npz: your own file with X (m, ...) and labels y (m,), optionally X_test, y_test."""
    path: Optional[str] = None
    standardize: bool = True

    def source(self):
        return self.path
