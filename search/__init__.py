"""search: composes configs, drives Optuna, talks to MLflow; the command-line entry points."""
