"""Fixtures of the incidents tests: lookup API clients of the whole province and of Biên Hòa (the
quotas are counted in PostgreSQL, so each test starts afresh with the database)."""
import pytest


@pytest.fixture
def province_token(units):
    from lookups.services import api_client_create
    from portal.actors import COMMAND_LINE

    return api_client_create(actor=COMMAND_LINE, name="Hệ thống một cửa tỉnh", unit=units["province"])[1]


@pytest.fixture
def bien_hoa_client(units):
    from lookups.services import api_client_create
    from portal.actors import COMMAND_LINE

    return api_client_create(actor=COMMAND_LINE, name="Một cửa Biên Hòa", unit=units["bien_hoa"])[0]
