"""A merge says which unit goes into which and shows what will move before anything changes; the
POST that merges carries the preview's counts, and a preview gone stale is refused and shown anew."""
import pytest
from django.urls import reverse

from accounts.choices import Role, UnitState
from accounts.models import Unit, User
from accounts.selectors import unit_merge_preview
from accounts.services import account_create, unit_merge
from audit.choices import EventKind
from audit.models import SecurityEvent
from portal.errors import DomainError
from tests.factories import UnitFactory, UserFactory
from tests.helpers import UNIT_CHANGE_BASIS, UNIT_CHANGE_BASIS_FORM, run_concurrently


def _merge_post(client, units, **extra):
    return client.post(reverse("accounts:unit_merge", args=[units["long_khanh"].pk]),
                       {"target": units["bien_hoa"].pk, **UNIT_CHANGE_BASIS_FORM, **extra})


def _snapshot():
    return (list(Unit.objects.order_by("pk").values_list("pk", "parent_id", "path", "state")),
            list(User.objects.order_by("pk").values_list("pk", "unit_id", "role")))


@pytest.fixture
def long_khanh_staff(units):
    leader = UserFactory(username="ld.longkhanh", full_name="Lê Văn Lãnh", role=Role.UNIT_LEADER,
                         unit=units["long_khanh"])
    officers = [UserFactory(username=f"cb.longkhanh{n}", unit=units["long_khanh"]) for n in range(2)]
    return leader, officers


def test_the_preview_lists_what_moves_in_two_queries(db, units, long_khanh_staff, django_assert_num_queries):
    UnitFactory(code="000.02.32.H19", name="UBND phường Xuân Bình", parent=units["long_khanh"])
    with django_assert_num_queries(2):
        preview = unit_merge_preview(units["long_khanh"], units["bien_hoa"])
    assert [account.username for account in preview.accounts] == ["ld.longkhanh", "cb.longkhanh0", "cb.longkhanh1"]
    assert [account.username for account in preview.leaders] == ["ld.longkhanh"]
    assert [unit.name for unit in preview.sub_units] == ["UBND phường Xuân An", "UBND phường Xuân Bình"]


def test_the_first_post_shows_the_preview_and_changes_nothing(admin_client, units, long_khanh_staff):
    before = _snapshot()
    response = _merge_post(admin_client, units)
    assert response.status_code == 200
    assert response.templates[0].name == "accounts/unit_merge_preview.html"
    page = response.content.decode()
    assert page.count("3 tài khoản và 1 đơn vị trực thuộc sẽ chuyển sang UBND thành phố Biên Hòa.") == 1
    assert page.count("Lãnh đạo: trở thành cán bộ") == 1
    assert page.count("ld.longkhanh") == 1 and page.count("UBND phường Xuân An") == 1
    assert page.count('name="confirm" value="1"') == 1
    assert page.count('name="accounts_count" value="3"') == 1 and page.count('name="sub_units_count" value="1"') == 1
    assert _snapshot() == before
    assert SecurityEvent.objects.exclude(kind=EventKind.LOGIN_SUCCESS).count() == 0


def test_the_confirmed_post_merges(admin_client, units, long_khanh_staff):
    response = _merge_post(admin_client, units, confirm="1", accounts_count="3", sub_units_count="1")
    assert response.status_code == 302
    merged = Unit.objects.get(pk=units["long_khanh"].pk)
    assert (merged.state, merged.merged_into_id, merged.change_basis) == (
        UnitState.MERGED, units["bien_hoa"].pk, "1234/QĐ-UBND")
    assert User.objects.filter(unit=units["bien_hoa"]).count() == 3
    assert SecurityEvent.objects.filter(kind=EventKind.UNIT_MERGED).count() == 1


def test_it_refuses_a_stale_preview_and_shows_the_new_one(admin_client, it_admin, units, long_khanh_staff):
    preview = _merge_post(admin_client, units).content.decode()
    assert preview.count('name="accounts_count" value="3"') == 1
    # Meanwhile someone adds an account to the unit being merged.
    account_create(actor=it_admin, username="cb.moi.den", full_name="Cán Bộ Mới", unit=units["long_khanh"],
                   role="officer")
    before = _snapshot()
    response = _merge_post(admin_client, units, confirm="1", accounts_count="3", sub_units_count="1")
    assert response.status_code == 200
    assert response.templates[0].name == "accounts/unit_merge_preview.html"
    page = response.content.decode()
    assert page.count("Đơn vị đã thay đổi kể từ lúc xem trước") == 1
    assert page.count("4 tài khoản và 1 đơn vị trực thuộc sẽ chuyển sang UBND thành phố Biên Hòa.") == 1
    assert page.count("cb.moi.den") == 1 and page.count('name="accounts_count" value="4"') == 1
    assert _snapshot() == before
    assert SecurityEvent.objects.filter(kind__in=[EventKind.UNIT_MERGED, EventKind.UNIT_CHANGED]).count() == 0
    # The new preview, confirmed, merges.
    assert _merge_post(admin_client, units, confirm="1", accounts_count="4", sub_units_count="1").status_code == 302
    assert User.objects.filter(unit=units["bien_hoa"]).count() == 4


def test_it_refuses_a_preview_that_missed_a_new_sub_unit(db, it_admin, units):
    UnitFactory(parent=units["long_khanh"])
    with pytest.raises(DomainError) as refusal:
        unit_merge(actor=it_admin, unit=units["long_khanh"], into=units["bien_hoa"], expected_accounts=0,
                   expected_sub_units=1, **UNIT_CHANGE_BASIS)
    assert refusal.value.code == "stale_preview"
    assert Unit.objects.get(pk=units["long_khanh"].pk).state == UnitState.ACTIVE


@pytest.mark.parametrize("counts", [{"accounts_count": "3"}, {"accounts_count": "x", "sub_units_count": "1"},
                                    {"accounts_count": "-1", "sub_units_count": "1"}], ids=["missing", "text", "negative"])
def test_it_refuses_a_confirmation_without_the_previews_counts(admin_client, units, long_khanh_staff, counts):
    before = _snapshot()
    response = _merge_post(admin_client, units, confirm="1", **counts)
    assert response.status_code == 200
    assert response.templates[0].name == "accounts/unit_form.html"
    assert response.context["form"].errors != {}
    assert _snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_an_account_created_during_the_merge_is_either_counted_or_refused(units, it_admin):
    """Real threads: the merge confirmed for 0 accounts and an account created in the unit at the
    same moment. Either the merge comes first (the account is refused: the unit is merged) or the
    account does (the merge is refused: the preview is stale) — never a merge that moved an unseen
    account."""
    outcomes = run_concurrently(
        lambda: unit_merge(actor=it_admin, unit=units["xuan_an"], into=units["bien_hoa"], expected_accounts=0,
                           expected_sub_units=0, **UNIT_CHANGE_BASIS),
        lambda: account_create(actor=it_admin, username="cb.dong.thoi", full_name="Đồng Thời", unit=units["xuan_an"],
                               role="officer"),
    )
    merged = Unit.objects.get(pk=units["xuan_an"].pk).state == UnitState.MERGED
    created = User.objects.filter(username="cb.dong.thoi").first()
    if merged:
        assert isinstance(outcomes[1], DomainError) and created is None
    else:
        assert isinstance(outcomes[0], DomainError) and outcomes[0].code == "stale_preview"
        assert created.unit_id == units["xuan_an"].pk


def test_it_refuses_a_preview_whose_accounts_changed_with_the_same_counts(db, it_admin, units, officer_long_khanh):
    """One account moved out and another in since the preview: the counts match, the contents do not."""
    from accounts.models import unit_contents_digest
    from tests.factories import UserFactory

    ward = units["xuan_an"]
    seen = unit_contents_digest([officer_long_khanh.pk], [])
    User.objects.filter(pk=officer_long_khanh.pk).update(unit=units["tan_phong"])
    UserFactory(username="cb.moi.den", unit=ward)
    with pytest.raises(DomainError) as refusal:
        unit_merge(actor=it_admin, unit=ward, into=units["long_khanh"], expected_accounts=1, expected_sub_units=0,
                   expected_digest=seen, **UNIT_CHANGE_BASIS)
    assert refusal.value.code == "stale_preview"
    assert Unit.objects.get(pk=ward.pk).state == UnitState.ACTIVE
