"""The lookups tests' fixtures: API clients of the province and of Long Khánh, and a Redis URL where
nothing listens."""
import socket

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def closed_port_url():
    return f"redis://127.0.0.1:{_free_port()}/0"


@pytest.fixture
def long_khanh_client(units):
    """An API client of Long Khánh city (its subtree: Xuân An ward) and its token."""
    from lookups.services import api_client_create
    from portal.actors import COMMAND_LINE

    return api_client_create(actor=COMMAND_LINE, name="Một cửa Long Khánh", unit=units["long_khanh"])


@pytest.fixture
def province_client(units):
    """An API client of the whole province and its token."""
    from lookups.services import api_client_create
    from portal.actors import COMMAND_LINE

    return api_client_create(actor=COMMAND_LINE, name="Hệ thống một cửa tỉnh", unit=units["province"])
