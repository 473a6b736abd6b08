"""search/adapters/mlflow.py: MLflow's newest store schema read from its migration scripts
equals alembic's own reading of them (the reference), and the scripts are where it looks."""
from alembic.script import ScriptDirectory

from search.adapters.mlflow import migrations_folder, schema_head


def test_mlflows_migration_scripts_are_where_the_adapter_reads_them():
    folder = migrations_folder()
    assert folder.is_dir() and list(folder.glob("*.py")), (
        f"MLflow moved its migration scripts from {folder}: update search/adapters/mlflow.py")


def test_the_head_read_from_the_scripts_is_alembics_head():
    assert schema_head() == ScriptDirectory(str(migrations_folder().parent)).get_current_head()
