"""Study storage URLs: the gRPC storage proxy's grpc://HOST:PORT, read by SQLAlchemy's parser."""
import pytest

from search.storage import urls


@pytest.mark.parametrize("url, address", [
    ("grpc://127.0.0.1:13000", ("127.0.0.1", 13000)),
    ("grpc://proxy.example.org:50051", ("proxy.example.org", 50051)),
])
def test_a_grpc_url_names_the_proxys_host_and_port(url, address):
    assert urls.grpc_address(url) == address
    assert urls.backend(url) == urls.GRPC
    assert urls.is_shared(url) and not urls.is_rdb(url)


@pytest.mark.parametrize("url, reason", [
    ("grpc://127.0.0.1", "needs a host and a port"),
    ("grpc://:13000", "needs a host and a port"),
    ("grpc://127.0.0.1:0", "needs a host and a port"),
    ("grpc://127.0.0.1:70000", "port out of range"),
    ("grpc://127.0.0.1:13000/studies", "more than a host and a port"),
    ("grpc://user:pw@127.0.0.1:13000", "more than a host and a port"),
])
def test_a_grpc_url_without_a_usable_port_is_refused(url, reason):
    with pytest.raises(ValueError, match=reason):
        urls.grpc_address(url)


def test_files_and_databases_are_told_apart_from_the_proxy():
    assert not urls.is_shared(None) and not urls.is_shared("mlruns/optuna.journal")
    assert urls.is_shared("postgresql+psycopg2://u@h/db") and urls.is_shared("sqlite:///x.db")
