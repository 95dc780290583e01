"""Sealing and verification: a clean log verifies; any change made behind the triggers is named."""
import json
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from audit.keys import new_signing_key_text
from audit.models import Seal
from audit.sealing import seals_run, table_seal
from audit.verification import chain_verify

from .seal_helpers import lookup_records, replication_role, security_events, triggers_disabled, verify_command

pytestmark = pytest.mark.django_db

LOOKUPS = "lookups_lookuprecord"
EVENTS = "audit_securityevent"


@pytest.fixture
def sealed_log():
    ids = lookup_records(30)
    events = security_events(5)
    seals_run()
    return {"lookups": ids, "events": events}


def test_it_verifies_a_clean_log(sealed_log):
    out, error = verify_command()
    assert error is None
    assert "1/1 seals valid" in out
    assert "30/30 records covered" in out
    assert "5/5 records covered" in out
    assert "Result: every seal and record valid" in out


def test_it_chains_each_seal_to_the_one_before(sealed_log):
    more = lookup_records(3)
    [second] = table_seal(LOOKUPS)
    first = Seal.objects.get(table_name=LOOKUPS, position=1)
    assert (second.position, second.first_id, second.last_id, second.row_count) == (2, first.last_id + 1, more[-1], 3)
    assert second.previous_chain == first.chain
    assert table_seal(LOOKUPS) == []  # nothing new: a second run changes nothing


def test_it_names_a_record_updated_with_the_trigger_disabled(sealed_log):
    target = sealed_log["lookups"][7]
    with triggers_disabled(LOOKUPS) as cursor:
        cursor.execute(f"UPDATE {LOOKUPS} SET purpose = 'sửa' WHERE id = %s", [target])
    out, error = verify_command()
    assert error == f"Verification failed: {LOOKUPS} record {target} changed (seal 1)."
    assert f"INVALID record_changed: {LOOKUPS} record {target} changed (seal 1)" in out
    assert "0/1 seals valid" in out and "29/30 records covered" in out


def test_it_names_a_record_deleted_behind_the_replication_role(sealed_log):
    target = sealed_log["lookups"][3]
    with replication_role() as cursor:
        cursor.execute(f"DELETE FROM {LOOKUPS} WHERE id = %s", [target])
    out, error = verify_command("--table", LOOKUPS)
    assert error == f"Verification failed: {LOOKUPS} record {target} missing from seal 1."


def test_it_names_an_event_changed_in_its_json(sealed_log):
    target = sealed_log["events"][2]
    with replication_role() as cursor:
        cursor.execute(f"""UPDATE {EVENTS} SET details = '{{"reason": "khác"}}' WHERE id = %s""", [target])
    _out, error = verify_command()
    assert error == f"Verification failed: {EVENTS} record {target} changed (seal 1)."


def test_it_explains_a_rolled_back_insert_as_a_gap_and_catches_a_row_put_there():
    before = lookup_records(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        lookup_records(1)
        raise RuntimeError("rolled back")
    after = lookup_records(2)
    [seal] = table_seal(LOOKUPS)
    gap_id = before[-1] + 1
    # Ids are not reused between tests: earlier ones form the first gap of this test's first seal.
    assert seal.gaps[-1] == [gap_id, gap_id] and seal.row_count == 4 and after[0] == gap_id + 1
    assert verify_command("--table", LOOKUPS)[1] is None  # a gap is no deletion
    with replication_role() as cursor:
        cursor.execute(f"INSERT INTO {LOOKUPS} SELECT %s, decided_at, officer_username, unit_id_then, unit_code_then,"
                       " dossier_code, purpose, decision, reason, citizen_id_hash, citizen_id_masked, ip_address,"
                       f" request_id, client_id, officer_id FROM {LOOKUPS} WHERE id = %s", [gap_id, before[0]])
    _out, error = verify_command("--table", LOOKUPS)
    assert error == f"Verification failed: {LOOKUPS} record {gap_id} added inside seal 1."


def test_it_names_a_seal_whose_row_was_changed(sealed_log):
    lookup_records(2)
    table_seal(LOOKUPS)
    with triggers_disabled("audit_seal") as cursor:
        cursor.execute("UPDATE audit_seal SET sealed_at = sealed_at - interval '1 day'"
                       " WHERE table_name = %s AND position = 2", [LOOKUPS])
    out, error = verify_command("--table", LOOKUPS)
    assert error == f"Verification failed: {LOOKUPS} seal 2 changed: its HMAC does not match."
    assert "1/2 seals valid" in out


def test_it_catches_a_chain_rewritten_with_the_hmac_key_by_its_signature(sealed_log, settings):
    """Whoever holds the HMAC key can recompute a seal, but cannot sign it."""
    from audit.canonical import seal_chain
    from audit.keys import current_hmac_key
    from audit.sealing import block_read
    from audit.verification import _message

    target = sealed_log["lookups"][0]
    seal = Seal.objects.get(table_name=LOOKUPS, position=1)
    with replication_role() as cursor:
        cursor.execute(f"DELETE FROM {LOOKUPS} WHERE id = %s", [target])
        block = block_read(LOOKUPS, "decided_at", first_id=seal.first_id, bound=seal.last_id, max_rows=10 ** 6)
        for name in ("row_count", "gaps", "row_tags", "digest", "first_record_at", "last_record_at"):
            setattr(seal, name, getattr(block, name))
        seal.chain = seal_chain(current_hmac_key()[1], _message(seal))
        cursor.execute("UPDATE audit_seal SET row_count = %s, gaps = %s, row_tags = %s, digest = %s, chain = %s,"
                       " first_record_at = %s, last_record_at = %s WHERE id = %s",
                       [seal.row_count, json.dumps(seal.gaps), seal.row_tags, seal.digest, seal.chain,
                        seal.first_record_at, seal.last_record_at, seal.pk])
    out, _error = verify_command("--table", LOOKUPS)
    assert "INVALID seal_changed" not in out  # the forger's HMAC is right
    _out, error = verify_command("--table", LOOKUPS)
    assert error == f"Verification failed: {LOOKUPS} seal 1: signature failed."


def test_it_fails_every_signature_with_a_wrong_public_key(sealed_log, tmp_path):
    lookup_records(2)
    table_seal(LOOKUPS)
    _seed, public_pem = new_signing_key_text()
    key_file = tmp_path / "wrong.pem"
    key_file.write_text(public_pem)
    out, error = verify_command("--public-key", str(key_file))
    assert out.count("INVALID signature_failed") == 3  # 2 seals of the lookups, 1 of the events
    assert "0/2 seals valid" in out and "0/1 seals valid" in out
    assert error == f"Verification failed: {EVENTS} seal 1: signature failed."


def test_it_verifies_with_the_portals_public_key_given_as_a_file(sealed_log, tmp_path):
    from audit.keys import public_key_pem, signing_key

    key_file = tmp_path / "portal.pem"
    key_file.write_text(public_key_pem(signing_key().public_key()))
    assert verify_command("--public-key", str(key_file))[1] is None


def test_it_reports_records_left_unsealed_longer_than_the_lag_allows(sealed_log):
    [late] = lookup_records(1, decided_at=timezone.now() - timedelta(minutes=6))
    out, error = verify_command("--table", LOOKUPS)
    assert "1 records not sealed yet" in out
    assert error.startswith(f"Verification failed: {LOOKUPS} 1 record(s) from id {late} unsealed")
    lookup_records(1)
    table_seal(LOOKUPS)
    assert verify_command("--table", LOOKUPS)[1] is None


def test_it_keeps_verifying_seals_made_before_a_key_rotation(sealed_log, settings):
    old_key = settings.AUDIT_SEAL_KEY
    settings.AUDIT_SEAL_KEY = "a-new-seal-key-after-rotation-0123456789"
    settings.AUDIT_SEAL_PREVIOUS_KEYS = [old_key]
    lookup_records(2)
    [second] = table_seal(LOOKUPS)
    first = Seal.objects.get(table_name=LOOKUPS, position=1)
    assert second.key_id != first.key_id
    assert verify_command()[1] is None
    settings.AUDIT_SEAL_PREVIOUS_KEYS = []
    _out, error = verify_command("--table", LOOKUPS)
    assert error == f"Verification failed: {LOOKUPS} seal 1 made with unknown key {first.key_id}."


def test_it_splits_a_backlog_into_blocks(settings):
    settings.AUDIT_SEAL_BLOCK_MAX_ROWS = 4
    ids = lookup_records(10)
    seals = table_seal(LOOKUPS)
    assert [(seal.last_id, seal.row_count) for seal in seals] == [(ids[3], 4), (ids[7], 4), (ids[9], 2)]
    assert [seal.first_id for seal in seals[1:]] == [ids[4], ids[8]]
    assert verify_command("--table", LOOKUPS)[1] is None


def test_it_checks_only_the_days_asked_for_with_the_seal_before_them(sealed_log):
    report = chain_verify(day_from=timezone.localdate(), day_to=timezone.localdate(), actor_username="t")
    assert report.ok and report.totals()["seals_checked"] == 2
    report = chain_verify(day_from=timezone.localdate() + timedelta(days=1), actor_username="t")
    assert report.ok and report.totals()["seals_checked"] == 0


@pytest.mark.parametrize("args,message", [
    (("--from", "2026-12-01"), "Not a date in the form dd/mm/yyyy: '2026-12-01'"),
    (("--from", "31/02/2026"), "Not a date in the form dd/mm/yyyy: '31/02/2026'"),
    (("--from", "02/12/2026", "--to", "01/12/2026"), "--to is before --from."),
])
def test_it_refuses_bad_dates(args, message):
    assert verify_command(*args)[1] == message


def test_it_refuses_an_unreadable_public_key(tmp_path):
    key_file = tmp_path / "bad.pem"
    key_file.write_text("not a key")
    assert verify_command("--public-key", str(key_file))[1].startswith("Cannot read the public key")


def test_it_prints_the_report_as_json(sealed_log):
    out, error = verify_command("--json")
    report = json.loads(out)
    assert error is None and report["ok"] is True
    assert (report["seals_checked"], report["seals_valid"], report["records_expected"]) == (2, 2, 35)


def test_it_records_each_verification_for_the_inspectors_page(sealed_log):
    from audit.models import SealVerification

    verify_command()
    run = SealVerification.objects.get()
    assert (run.ok, run.seals_checked, run.records_checked, run.actor_username) == (True, 2, 35, "system:command_line")


def test_it_publishes_the_newest_digest_of_each_table(sealed_log):
    from audit.selectors import seal_digests_latest

    digests = seal_digests_latest()
    lookups = Seal.objects.get(table_name=LOOKUPS)
    assert digests[LOOKUPS] == {"position": 1, "chain": lookups.chain, "signature": lookups.signature,
                                "last_id": lookups.last_id, "sealed_at": lookups.sealed_at}
    assert set(digests) == {LOOKUPS, EVENTS}


def test_the_canonical_form_of_a_record_is_sorted_compact_and_utc():
    from datetime import datetime

    from audit.canonical import RecordLayout

    class Column:
        def __init__(self, name, type_code):
            self.name, self.type_code = name, type_code

    layout = RecordLayout([Column("id", 20), Column("when", 1184), Column("details", 3802), Column("name", 1043)])
    moment = datetime(2026, 12, 1, 21, 30, tzinfo=timezone.get_fixed_timezone(420))
    assert layout.record((7, moment, '{"b": 1, "a": "ă"}', None)) == (
        '{"details":{"a":"ă","b":1},"id":7,"name":null,"when":"2026-12-01T14:30:00.000000+00:00"}'.encode())


def test_its_connection_reads_times_in_utc():
    with connection.cursor() as cursor:
        cursor.execute("SHOW TIME ZONE")
        assert cursor.fetchone()[0] == "UTC"


def test_it_names_a_seal_deleted_from_the_middle_of_the_chain(sealed_log):
    for _ in range(2):
        lookup_records(1)
        table_seal(LOOKUPS)
    with triggers_disabled("audit_seal") as cursor:
        cursor.execute("DELETE FROM audit_seal WHERE table_name = %s AND position = 2", [LOOKUPS])
    out, error = verify_command("--table", LOOKUPS)
    assert error == f"Verification failed: {LOOKUPS} seal 2 missing before seal 3."
    assert "INVALID chain_broken" in out and "INVALID seal_out_of_order" in out



def test_it_names_a_second_row_with_a_sealed_id(sealed_log):
    """The partitioned table's primary key is (id, decided_at): the database alone would take a copy."""
    target = sealed_log["lookups"][5]
    with replication_role() as cursor:
        cursor.execute(f"INSERT INTO {LOOKUPS} SELECT id, decided_at + interval '1 second', officer_username,"
                       " unit_id_then, unit_code_then, dossier_code, 'bản sao', decision, reason, citizen_id_hash,"
                       " citizen_id_masked, ip_address, request_id, client_id, officer_id"
                       f" FROM {LOOKUPS} WHERE id = %s", [target])
    _out, error = verify_command("--table", LOOKUPS)
    assert error == f"Verification failed: {LOOKUPS} record {target} added inside seal 1."
