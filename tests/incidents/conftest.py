"""Fixtures of the incidents tests: quota counters under a prefix of their own (never FLUSHDB), and a
lookup API client of the whole province."""
import uuid

import pytest

from lookups.quotas import quota_redis_reset
from tests.helpers import redis_keys_delete


@pytest.fixture(autouse=True)
def quota_redis(settings):
    prefix = f"inctest-{uuid.uuid4().hex[:10]}"
    settings.QUOTA_KEY_PREFIX = prefix
    settings.QUOTA_REDIS_URL = settings.REDIS_URL
    quota_redis_reset()
    yield prefix
    quota_redis_reset()
    redis_keys_delete(settings.REDIS_URL, prefix)


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
