"""The `cv` group (and search.cv): stratified K-fold cross-validation of a run."""
from dataclasses import dataclass
from typing import Optional

from search.config.rules import Integer, check_rules

MAX_FOLDS, MAX_REPEATS = 1000, 100


@dataclass
class CVSchema:
    """With folds: K, a run trains K networks on stratified folds of the training data and
    reports the mean (and spread) of their validation metrics; null: off."""
    folds: Optional[int] = None
    repeats: int = 1   # the K folds again with other seeds, averaged (noisy problems)


RULES = {"folds": Integer(2, MAX_FOLDS, optional=True), "repeats": Integer(1, MAX_REPEATS)}


def check_cv(cv, group="cv"):
    check_rules(cv, RULES, group)
