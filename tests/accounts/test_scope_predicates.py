"""accounts/scope.py's predicates for objects already loaded (the lookup decision's client subtree, the
lookup history export): the same rules as the scope querysets, checked against them."""
from accounts.scope import account_is_visible_to, accounts_visible_to, unit_within


def test_a_unit_is_within_itself_and_its_ancestors_only(units):
    ward = units["tan_phong"]
    assert [unit_within(ward, root) for root in (units["province"], units["bien_hoa"], ward, units["long_khanh"])] == [
        True, True, True, False]
    assert unit_within(units["bien_hoa"], ward) is False


def test_account_visibility_agrees_with_the_scope_queryset(it_admin, inspector, leader_bien_hoa, officer_bien_hoa,
                                                           officer_long_khanh):
    everyone = (it_admin, inspector, leader_bien_hoa, officer_bien_hoa, officer_long_khanh)
    for reader in everyone:
        visible = set(accounts_visible_to(reader).filter(pk__in=[a.pk for a in everyone]).values_list("pk", flat=True))
        assert {account.pk for account in everyone if account_is_visible_to(reader, account)} == visible, reader
    assert account_is_visible_to(leader_bien_hoa, officer_bien_hoa) is True
    assert account_is_visible_to(leader_bien_hoa, officer_long_khanh) is False
    assert account_is_visible_to(officer_bien_hoa, officer_long_khanh) is False
