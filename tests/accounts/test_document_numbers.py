"""One numbering scheme for the records the IT Center issues: handover and turnover records share the
year's count ("0001/BB-TTCNTT", "0002/BB-TTCNTT"…), which starts again at 1 each year (Decree
30/2020/NĐ-CP); the issuer's abbreviation is a setting."""
import pytest
from django.test import override_settings

from accounts.choices import Role
from accounts.documents import document_number_take
from accounts.services import account_create
from tests.helpers import run_concurrently

pytestmark = pytest.mark.django_db


def test_handover_and_turnover_records_share_one_count_per_year(units, it_admin):
    _account, _password, first = account_create(actor=it_admin, username="cb.mot", full_name="Trần Văn Một",
                                                unit=units["tan_phong"], role=Role.OFFICER)
    _account, _password, second = account_create(actor=it_admin, username="cb.hai", full_name="Trần Văn Hai",
                                                 unit=units["tan_phong"], role=Role.OFFICER)
    assert (first.number, second.number) == ("0001/BB-TTCNTT", "0002/BB-TTCNTT")
    assert document_number_take("BB", year=first.issued_at.year + 1) == "0001/BB-TTCNTT"
    assert document_number_take("BC", year=first.issued_at.year) == "0001/BC-TTCNTT"
    with override_settings(DOCUMENT_ISSUER_ABBREVIATION="TTCĐS"):
        assert document_number_take("BB", year=first.issued_at.year) == "0003/BB-TTCĐS"


@pytest.mark.django_db(transaction=True)
def test_two_transactions_never_get_one_number():
    from django.db import connection, transaction

    def take():
        try:
            with transaction.atomic():
                return document_number_take("BB", year=2031)
        finally:
            connection.close()

    numbers = run_concurrently(*[take for _ in range(8)])
    assert sorted(numbers) == [f"{n:04d}/BB-TTCNTT" for n in range(1, 9)]
