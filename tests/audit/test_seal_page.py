"""The inspector's page of the seals: the chain's state, the lag, the latest verification, the public
key and the download of the seals — for it_admin and inspectors only."""
import base64
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.canonical import seal_message, signed_bytes
from audit.keys import public_key_from_text, signature_valid
from audit.models import Seal, SealVerification
from audit.sealing import seals_run
from tests.helpers import login

from .seal_helpers import lookup_records, verify_command

pytestmark = pytest.mark.django_db
LOOKUPS = "lookups_lookuprecord"


def _text(response):
    return response.content.decode()


@pytest.mark.parametrize("name", ["audit:seals", "audit:seal_public_key", "audit:seal_download"])
def test_it_refuses_the_seal_pages_to_leaders_and_officers(client, leader_bien_hoa, officer_bien_hoa, name):
    for user in (leader_bien_hoa, officer_bien_hoa):
        assert login(client, user).get(reverse(name)).status_code == 403
    assert login(client, leader_bien_hoa).post(reverse("audit:seal_verify")).status_code == 403


def test_it_shows_the_chain_lag_and_last_verification(client, inspector):
    lookup_records(3)
    seals_run()
    verify_command()
    lookup_records(1, decided_at=timezone.now() - timedelta(minutes=7))
    page = _text(login(client, inspector).get(reverse("audit:seals")))
    seal = Seal.objects.get(table_name=LOOKUPS)
    assert "Niêm phong nhật ký" in page
    assert f"Số {seal.position}" in page and seal.chain[:16] in page
    assert "Hợp lệ" in page and "2/2 hợp lệ" in page
    assert "7 phút" in page and "quá 5 phút" in page  # the record left unsealed
    assert "-----BEGIN PUBLIC KEY-----" in page


def test_it_shows_the_first_problem_of_a_failed_verification(client, inspector):
    from .seal_helpers import replication_role

    [target, _] = lookup_records(2)
    seals_run()
    with replication_role() as cursor:
        cursor.execute(f"DELETE FROM {LOOKUPS} WHERE id = %s", [target])
    verify_command()
    response = login(client, inspector).get(reverse("audit:seals"))
    assert "Có vấn đề" in _text(response)
    assert f"Bản ghi mã {target} của nhật ký tra cứu bị mất khỏi niêm phong số 1." in _text(response)


def test_the_downloaded_seals_verify_with_the_public_key_alone(client, inspector):
    lookup_records(2)
    seals_run()
    login(client, inspector)
    key = public_key_from_text(client.get(reverse("audit:seal_public_key")).content.decode())
    response = client.get(reverse("audit:seal_download"), {"table": LOOKUPS})
    assert response["Content-Disposition"].startswith('attachment; filename="seals-lookups_lookuprecord-')
    header, *lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert header["format"] == "portal-seal-v1"
    [seal] = lines
    from django.utils.dateparse import parse_datetime

    message = seal_message(
        table=seal["table"], position=seal["position"], first_id=seal["first_id"], last_id=seal["last_id"],
        row_count=seal["row_count"], gaps=seal["gaps"], columns=seal["columns"],
        first_record_at=parse_datetime(seal["first_record_at"]), last_record_at=parse_datetime(seal["last_record_at"]),
        digest=seal["digest"], sealed_at=parse_datetime(seal["sealed_at"]), previous_chain=seal["previous_chain"],
        key_id=seal["key_id"])
    assert signature_valid(key, bytes.fromhex(seal["signature"]), signed_bytes(message, seal["chain"]))
    assert len(base64.b64decode(seal["row_tags"])) == 4 * 2


def test_it_answers_404_for_an_unknown_table(client, inspector):
    assert login(client, inspector).get(reverse("audit:seal_download"), {"table": "accounts_user"}).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_verify_now_runs_the_verification_job(client, inspector, celery_worker):
    from audit.tasks import verify

    done = celery_worker.runs_of(verify)
    response = login(client, inspector).post(reverse("audit:seal_verify"))
    assert response.status_code == 302 and response["Location"] == reverse("audit:seals")
    celery_worker.wait_done(verify, done + 1)
    run = SealVerification.objects.get()
    assert (run.ok, run.actor_username) == (True, "system:seal_job")
