"""The portal's first day: a reader whose unit has no snapshot yet sees today's figures on `/`, computed
as the page opens (never an empty page until tonight's job), and nothing is written for it."""
from datetime import timedelta

import pytest
from django.utils import timezone

from compliance.models import UnitSnapshot
from tests.factories import UserFactory
from tests.helpers import login


@pytest.mark.django_db
def test_a_leader_of_a_unit_with_no_snapshot_sees_todays_figures_on_the_home_page(client, units, leader_bien_hoa,
                                                                                   officer_bien_hoa,
                                                                                   officer_long_khanh):
    now = timezone.now()
    UserFactory(unit=units["tan_phong"], username="cb.hethan", password_changed_at=now - timedelta(days=100))
    assert not UnitSnapshot.objects.exists()

    response = login(client, leader_bien_hoa).get("/")

    assert response.status_code == 200
    board = response.context["board"]
    assert board.computed_now is True
    assert board.unit == units["bien_hoa"]
    assert (board.snapshot.day, board.snapshot.accounts_total, board.snapshot.accounts_compliant) == (
        timezone.localdate(), 3, 2)
    assert board.snapshot.password_expired == 1
    assert [(row.unit_name, row.accounts_total) for row in board.children] == [("UBND phường Tân Phong", 2)]
    body = response.content.decode()
    assert "Số liệu hôm nay, tính ngay khi mở trang" in body
    assert "Chưa có số liệu" not in body
    today = timezone.localdate().strftime("%d/%m/%Y")
    assert f"2 trên 3 tài khoản đang hoạt động tuân thủ ({today})." in body
    # Nothing was written: tonight's job still records how the day ended.
    assert not UnitSnapshot.objects.exists()


@pytest.mark.django_db
def test_a_unit_with_a_snapshot_reads_it_and_computes_nothing(client, units, leader_bien_hoa, officer_bien_hoa):
    from compliance.services import snapshot_take
    from portal.actors import SystemActor

    snapshot_take(actor=SystemActor("compliance_job"))
    response = login(client, leader_bien_hoa).get("/")
    assert response.status_code == 200
    assert response.context["board"].computed_now is False
    assert "tính ngay khi mở trang" not in response.content.decode()
