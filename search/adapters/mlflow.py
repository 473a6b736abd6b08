"""The newest schema revision of MLflow's tracking store, without importing MLflow.

MLflow has no public name for it. alembic's ScriptDirectory would tell, but it imports every
migration script (seconds, in each process that opens a fresh store); the scripts' own
`revision =` / `down_revision =` lines tell the same (a test checks them against alembic).
"""
import importlib.util
import re
from pathlib import Path

MIGRATIONS = ("store", "db_migrations", "versions")  # inside the mlflow package


def migrations_folder():
    """MLflow's folder of alembic migration scripts (found, not imported)."""
    spec = importlib.util.find_spec("mlflow")
    return Path(spec.origin).parent.joinpath(*MIGRATIONS)


def schema_head():
    """The revision that no other migration follows (None: cannot tell)."""
    revisions, parents = set(), set()
    for script in migrations_folder().glob("*.py"):
        text = script.read_text()
        revisions.update(re.findall(r"""^revision\s*=\s*["']([0-9a-f]+)["']""", text, re.M))
        for line in re.findall(r"^down_revision\s*=.*$", text, re.M):
            parents.update(re.findall(r"""["']([0-9a-f]+)["']""", line))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None
