"""Shared actors (STYLE.md): an IT admin, an inspector, a leader of Biên Hòa, an officer of a Biên Hòa
ward and an officer of another district (Long Khánh), in a small Đồng Nai tree."""
import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from accounts.choices import Role, UnitKind

from .factories import DEFAULT_PASSWORD, UnitFactory, UserFactory


def pytest_sessionstart(session):
    # CI must run against the real services; a missing one is a failure, never a skip.
    if connection.vendor != "postgresql":
        pytest.exit("The suite runs on PostgreSQL: run it with `make test` (DATABASE_URL).", returncode=2)
    if not settings.REDIS_URL:
        pytest.exit("The suite runs with Redis: run it with `make test` (REDIS_URL).", returncode=2)


# The statement trigger that refuses TRUNCATE on the audit table is off in the test database only:
# pytest-django empties tables with TRUNCATE after transactional tests (the browser journeys).
# tests/audit/test_events.py turns it back on inside a transaction to show that it works.
AUDIT_TRUNCATE_TRIGGER = "audit_securityevent_no_truncate"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE audit_securityevent DISABLE TRIGGER {AUDIT_TRUNCATE_TRIGGER}")


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def password():
    return DEFAULT_PASSWORD


@pytest.fixture
def units(db):
    province = UnitFactory(code="000.00.00.H19", name="UBND tỉnh Đồng Nai", kind=UnitKind.PROVINCE)
    department = UnitFactory(code="000.00.11.H19", name="Sở Thông tin và Truyền thông", kind=UnitKind.DEPARTMENT,
                             parent=province)
    it_center = UnitFactory(code="000.01.11.H19", name="Trung tâm Công nghệ thông tin và Truyền thông",
                            kind=UnitKind.IT_CENTER, parent=department)
    inspectorate = UnitFactory(code="000.00.17.H19", name="Thanh tra tỉnh", kind=UnitKind.DEPARTMENT,
                               parent=province)
    bien_hoa = UnitFactory(code="000.00.31.H19", name="UBND thành phố Biên Hòa", kind=UnitKind.CITY, parent=province)
    tan_phong = UnitFactory(code="000.01.31.H19", name="UBND phường Tân Phong", kind=UnitKind.WARD, parent=bien_hoa)
    long_khanh = UnitFactory(code="000.00.32.H19", name="UBND thành phố Long Khánh", kind=UnitKind.CITY,
                             parent=province)
    xuan_an = UnitFactory(code="000.01.32.H19", name="UBND phường Xuân An", kind=UnitKind.WARD, parent=long_khanh)
    return {"province": province, "department": department, "it_center": it_center, "inspectorate": inspectorate,
            "bien_hoa": bien_hoa, "tan_phong": tan_phong, "long_khanh": long_khanh, "xuan_an": xuan_an}


@pytest.fixture
def it_admin(units):
    return UserFactory(username="qt.admin", full_name="Nguyễn Văn Hùng", role=Role.IT_ADMIN, unit=units["it_center"])


@pytest.fixture
def inspector(units):
    return UserFactory(username="tt.inspector", full_name="Trần Thị Mai", role=Role.INSPECTOR,
                       unit=units["inspectorate"])


@pytest.fixture
def leader_bien_hoa(units):
    return UserFactory(username="ld.bienhoa", full_name="Lê Minh Tuấn", role=Role.UNIT_LEADER, unit=units["bien_hoa"])


@pytest.fixture
def officer_bien_hoa(units):
    return UserFactory(username="cb.tanphong", full_name="Phạm Thị Hương", role=Role.OFFICER, unit=units["tan_phong"],
                       can_lookup=True)


@pytest.fixture
def officer_long_khanh(units):
    return UserFactory(username="cb.xuanan", full_name="Võ Văn Khánh", role=Role.OFFICER, unit=units["xuan_an"])


def login(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def admin_client(client, it_admin):
    return login(client, it_admin)
