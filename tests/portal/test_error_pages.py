"""The portal's own Vietnamese error pages: 404 and 403 also under DEBUG=1 (`make run`, where Django
would show its technical 404 page), and a 500 page that needs nothing that could fail itself."""
import pytest
from django.http import HttpResponse
from django.template import loader
from django.urls import include, path

from tests.helpers import login


def _broken_view(request):
    raise RuntimeError("boom")


def _ok_view(request):
    return HttpResponse("ok")


urlpatterns = [
    path("broken/", _broken_view),
    path("", include("portal.urls")),
]


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_it_shows_its_own_404_page_for_an_unknown_address(client, officer_bien_hoa, settings, debug):
    settings.DEBUG = debug
    login(client, officer_bien_hoa)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Không tìm thấy" in page and "nằm ngoài phạm vi quản lý" in page
    assert "Using the URLconf" not in page and "technical" not in page.lower()


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_it_shows_its_own_404_page_for_an_object_outside_scope(client, leader_bien_hoa, officer_long_khanh,
                                                               settings, debug):
    settings.DEBUG = debug
    login(client, leader_bien_hoa)
    response = client.get(f"/admin/accounts/{officer_long_khanh.pk}/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Không tìm thấy" in page and "Raised by" not in page


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_it_shows_its_own_404_page_to_an_anonymous_visitor(client, db, settings, debug):
    settings.DEBUG = debug
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Không tìm thấy" in response.content.decode()


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_it_shows_its_own_403_page(client, officer_bien_hoa, settings, debug):
    settings.DEBUG = debug
    login(client, officer_bien_hoa)
    response = client.get("/admin/audit/")
    assert response.status_code == 403
    assert "Không có quyền truy cập" in response.content.decode()


def test_it_shows_a_vietnamese_500_page_in_production(client, officer_bien_hoa, settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__
    client.raise_request_exception = False
    login(client, officer_bien_hoa)
    response = client.get("/broken/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Đã xảy ra lỗi" in page and "boom" not in page and "Traceback" not in page


def test_it_keeps_djangos_debug_page_for_a_500_under_debug(client, officer_bien_hoa, settings):
    """DEBUG=1 is `make run` on 127.0.0.1: whoever tries it needs the traceback more than a nice page."""
    settings.DEBUG = True
    settings.ROOT_URLCONF = __name__
    client.raise_request_exception = False
    login(client, officer_bien_hoa)
    response = client.get("/broken/")
    assert response.status_code == 500
    assert "RuntimeError" in response.content.decode()


def test_it_renders_the_500_page_without_any_context():
    """Django renders 500.html with an empty context; a template that needs anything could fail again."""
    page = loader.get_template("500.html").render()
    assert "Đã xảy ra lỗi" in page and "{%" not in loader.get_template("500.html").template.source
