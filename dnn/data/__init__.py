"""Data sets as (X, Y) with examples as columns, and the train/validation split."""
from dnn.data.files import DataError, load_cat, load_npz
from dnn.data.preprocess import Preprocess
from dnn.data.registry import DATASETS, Dataset, load_dataset
from dnn.data.split import one_hot, standardize, stratified_folds, train_val_split
from dnn.data.synthetic import circles, moons, planar

__all__ = ["DATASETS", "DataError", "Dataset", "Preprocess", "circles", "load_cat",
           "load_dataset", "load_npz", "moons", "one_hot", "planar", "standardize",
           "stratified_folds", "train_val_split"]
