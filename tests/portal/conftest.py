"""Fixtures of the portal-wide tests."""
import pytest
from django.db import transaction
from django.test import override_settings


@pytest.fixture(scope="module")
def authorization_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The authorization matrix's world (tests/authorization_world.py), once per module, in a transaction
    rolled back at the end of the module; its files in a folder of its own."""
    from tests.authorization_world import world_build

    media = tmp_path_factory.mktemp("authorization-media")
    with django_db_blocker.unblock(), override_settings(PRIVATE_MEDIA_ROOT=str(media)), transaction.atomic():
        built = world_build()
        yield built
        transaction.set_rollback(True)
