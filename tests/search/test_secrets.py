"""search.secrets: every credential form SQLAlchemy and libpq accept is masked."""
import pytest
from sqlalchemy.engine import make_url

from search.secrets import mask, mask_item

SECRET = "hunter2"


@pytest.mark.parametrize("text", [
    f"postgresql+psycopg2://user:{SECRET}@db.example:5432/studies",
    f"postgresql://db.example/studies?password={SECRET}",
    f"postgresql://user@db.example/studies?sslmode=require&password={SECRET}&x=1",
    f"postgresql://db.example/studies?sslpassword={SECRET}",
    f"host=db.example password={SECRET} dbname=studies",
    f"host=db.example password='{SECRET} x' dbname=studies",
    f"PGPASSWORD={SECRET} dnn-sweep",
    f"MLFLOW_TRACKING_PASSWORD={SECRET}",
    f"tracking:\n  password: {SECRET}\n",
    f"{{'password': '{SECRET}'}}",
    f"error: cannot open study storage mysql+pymysql://u:{SECRET}@h/db: Access denied",
    f"http://user:{SECRET}@mlflow.example:5000",
])
def test_every_credential_form_is_masked(text):
    masked = mask(text)
    assert SECRET not in masked and "***" in masked


@pytest.mark.parametrize("override", [
    f"search.storage=postgresql+psycopg2://user:{SECRET}@db.example:5432/studies",
    f"tracking.uri=postgresql://db.example/studies?password=x {SECRET}&sslmode=require",
    f"tracking.uri=http://user:a,b:{SECRET}@mlflow.example:5000",
])
def test_a_multiruns_escaped_overrides_are_masked(override):
    """Hydra's own escaping of a --multirun job's overrides (`\\:`, `\\=`, `\\ `), alone and
    as Python prints their list (Hydra's 'Error executing job with overrides: [...]')."""
    from hydra._internal.grammar.utils import escape_special_characters

    key, value = override.split("=", 1)
    escaped = f"{key}={escape_special_characters(value)}"
    assert escaped != override
    for text in (escaped, repr([escaped, "train.learning_rate=0.1"])):
        assert SECRET not in mask(text) and "***" in mask(text), text


@pytest.mark.parametrize("text", [
    f"host=db.example password=ab;{SECRET} dbname=studies",
    f"postgresql://db.example/studies?password=ab;{SECRET}&sslmode=require",
    f"PGPASSWORD=ab;{SECRET}",
])
def test_a_password_is_masked_whole_past_a_semicolon(text):
    assert SECRET not in mask(text) and "***" in mask(text)


def test_masking_keeps_what_is_not_secret():
    text = "postgresql://user@db.example:5432/studies?sslmode=require"
    assert mask(text) == text
    assert mask("mlruns/optuna.journal") == "mlruns/optuna.journal"
    url = mask(f"postgresql+psycopg2://user:{SECRET}@h:5432/db?password={SECRET}&sslmode=x")
    parsed = make_url(url)  # still a URL SQLAlchemy reads, naming the same place
    assert (parsed.username, parsed.host, parsed.port, parsed.database) == ("user", "h", 5432, "db")
    assert parsed.query["sslmode"] == "x"


def test_values_of_credential_keys_are_masked_whole():
    assert mask_item("tracking.password", SECRET) == "***"
    assert mask_item("env.PGPASSWORD", SECRET) == "***"
    assert mask_item("search.storage", f"sqlite:///x.db?password={SECRET}") == \
        "sqlite:///x.db?password=***"
    assert mask_item("train.learning_rate", 0.1) == "0.1"
