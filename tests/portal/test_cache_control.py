"""Pages with personal data are never kept by a browser or a proxy: every response to a signed-in user
says `Cache-Control: no-store` (a shared office computer's back button or disk cache shows nothing to
the next person). Static files keep their normal caching."""
import pytest
from django.urls import reverse

from accounts.services import account_create
from audit.choices import EventKind
from audit.models import SecurityEvent
from tests.helpers import login


def _directives(response):
    return [directive.strip() for directive in response.get("Cache-Control", "").split(",") if directive.strip()]


@pytest.fixture
def handover(units, it_admin):
    account, _, record = account_create(actor=it_admin, username="cb.bangiao", full_name="Đỗ Thị Giao",
                                        unit=units["tan_phong"], role="officer")
    return account, record


def _urls(role_fixture, officer, unit, record):
    every_role = [reverse("home"), reverse("password_change")]
    if role_fixture == "officer_bien_hoa":
        return every_role
    managers = every_role + [
        reverse("accounts:list"), reverse("accounts:detail", args=[officer.pk]),
        reverse("accounts:edit", args=[officer.pk]), reverse("accounts:unit_list"),
        reverse("accounts:handover_record", args=[record.pk]), reverse("accounts:unit_rename", args=[unit.pk]),
    ]
    if role_fixture == "leader_bien_hoa":
        return managers
    return managers + [reverse("audit:events"), reverse("policy:edit"), reverse("accounts:create")]


@pytest.mark.parametrize("role_fixture", ["it_admin", "inspector", "leader_bien_hoa", "officer_bien_hoa"])
def test_it_forbids_caching_every_page_of_a_signed_in_user(request, client, units, handover, role_fixture):
    user = request.getfixturevalue(role_fixture)
    account, record = handover
    login(client, user)
    urls = _urls(role_fixture, account, units["tan_phong"], record)
    for url in urls:
        response = client.get(url)
        assert "no-store" in _directives(response), (url, response.status_code, response.get("Cache-Control"))


def test_it_forbids_caching_a_refused_page_of_a_signed_in_user(client, officer_bien_hoa):
    login(client, officer_bien_hoa)
    response = client.get(reverse("audit:events"))
    assert response.status_code == 403
    assert "no-store" in _directives(response)


def test_it_forbids_caching_the_redirect_that_ends_a_signed_in_post(client, it_admin, officer_bien_hoa):
    login(client, it_admin)
    response = client.post(reverse("accounts:edit", args=[officer_bien_hoa.pk]), {})
    assert "no-store" in _directives(response)


def test_it_keeps_healthz_uncached_without_recording_anything(client, it_admin):
    login(client, it_admin)
    before = SecurityEvent.objects.count()
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert "no-store" in _directives(response)
    assert SecurityEvent.objects.count() == before


def test_it_leaves_static_files_cacheable_for_a_signed_in_user(client, it_admin, settings):
    # WhiteNoise as `make run` has it (files from the finders); a new client builds its middleware now.
    settings.WHITENOISE_USE_FINDERS = True
    login(client, it_admin)
    response = client.get("/static/css/portal.css")
    assert response.status_code == 200
    assert "no-store" not in _directives(response)


def test_it_leaves_a_missing_static_file_to_the_static_rules(client, it_admin):
    login(client, it_admin)
    response = client.get("/static/css/missing.css")
    assert response.status_code == 404
    assert "no-store" not in _directives(response)
    # A missing file is not a refused access.
    assert SecurityEvent.objects.filter(kind=EventKind.ACCESS_DENIED).count() == 0
