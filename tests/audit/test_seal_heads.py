"""The chain cut and re-grown (issue 22, HIGH): a database superuser deletes the newest seal, changes the
records it covered and lets the portal's own sealer re-seal them with the real keys. The seals alone
verify; the heads kept outside the database (audit/heads.py) do not. Also: a verification history that
went missing, ids at or below 0, and a record whose time runs backwards. Every attack runs as the
PostgreSQL superuser the tests connect as, against the real database."""
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from audit.models import Seal, SealVerification
from audit.sealing import ChainWentBackwards, seals_run, table_seal
from tests.helpers import login

from .seal_helpers import lookup_records, replication_role, security_events, verify_command

pytestmark = pytest.mark.django_db

LOOKUPS = "lookups_lookuprecord"
EVENTS = "audit_securityevent"


def _heads_lines() -> list[dict]:
    return [json.loads(line) for line in Path(settings.AUDIT_HEADS_FILE).read_text().splitlines()]


@pytest.fixture
def two_seals():
    """Lookups sealed in two blocks; the second (the newest) covers `newest`."""
    lookup_records(4)
    security_events(2)
    seals_run()
    newest = lookup_records(3)
    table_seal(LOOKUPS)
    return newest


def _cut_and_change(newest):
    """As a superuser: delete the newest seal and change the records it covered."""
    with replication_role() as cursor:
        cursor.execute("DELETE FROM audit_seal WHERE table_name = %s AND position = 2", [LOOKUPS])
        cursor.execute(f"UPDATE {LOOKUPS} SET purpose = 'đã sửa' WHERE id = ANY(%s)", [newest])


def _regrow_without_heads(settings):
    """The re-growth that worked before: the portal's sealer with nothing kept outside the database."""
    kept = settings.AUDIT_HEADS_FILE
    settings.AUDIT_HEADS_FILE = ""
    [regrown] = table_seal(LOOKUPS)
    settings.AUDIT_HEADS_FILE = kept
    return regrown


def test_every_seal_head_is_kept_outside_the_database(two_seals):
    lines = _heads_lines()
    seals = {(seal.table_name, seal.position): seal for seal in Seal.objects.all()}
    assert [(line["kind"], line["table"], line["position"]) for line in lines] == [
        ("seal", EVENTS, 1), ("seal", LOOKUPS, 1), ("seal", LOOKUPS, 2)]
    for line in lines:
        seal = seals[(line["table"], line["position"])]
        assert (line["chain"], line["signature"], line["first_id"], line["last_id"]) == (
            seal.chain, seal.signature, seal.first_id, seal.last_id)


def test_the_sealer_refuses_to_regrow_a_cut_chain(two_seals):
    _cut_and_change(two_seals)
    with pytest.raises(ChainWentBackwards) as refusal:
        table_seal(LOOKUPS)
    assert refusal.value.message == (
        "Chuỗi niêm phong của lookups_lookuprecord bị lùi lại: đầu chuỗi lưu ngoài cơ sở dữ liệu là niêm phong "
        "số 2, còn chuỗi trong cơ sở dữ liệu chỉ đến số 1. Đã dừng niêm phong: hãy chạy audit_verify --heads với "
        "các đầu chuỗi đã lưu và điều tra trước khi niêm phong lại.")
    assert list(Seal.objects.filter(table_name=LOOKUPS).values_list("position", flat=True)) == [1]
    with pytest.raises(CommandError) as command_error:
        call_command("audit_seal", "--wait", "0")
    assert str(command_error.value).startswith("Chuỗi niêm phong của lookups_lookuprecord bị lùi lại")


def test_the_sealer_refuses_a_chain_whose_head_was_rewritten(two_seals, settings):
    _cut_and_change(two_seals)
    _regrow_without_heads(settings)
    lookup_records(1)
    with pytest.raises(ChainWentBackwards) as refusal:
        table_seal(LOOKUPS)
    assert refusal.value.message.startswith(
        "Chuỗi niêm phong của lookups_lookuprecord đã bị viết lại: niêm phong số 2 trong cơ sở dữ liệu khác với "
        "đầu chuỗi lưu ngoài cơ sở dữ liệu.")


def test_a_regrown_chain_verifies_on_its_seals_alone_but_fails_against_the_kept_heads(two_seals, settings,
                                                                                      tmp_path):
    kept = tmp_path / "kept-by-the-inspector.jsonl"
    kept.write_text(Path(settings.AUDIT_HEADS_FILE).read_text())
    _cut_and_change(two_seals)
    regrown = _regrow_without_heads(settings)
    settings.AUDIT_HEADS_FILE = ""  # the attack as it worked: every seal valid on its own
    out, error = verify_command("--table", LOOKUPS)
    assert error is None and "2/2 seals valid" in out
    out, error = verify_command("--table", LOOKUPS, "--heads", str(kept))
    assert error == (f"Verification failed: {LOOKUPS} seal 2 differs from the head kept in {kept} "
                     f"(chain {_kept_chain(kept, 2)[:16]}… kept, {regrown.chain[:16]}… found).")
    assert f"Heads kept outside the database: {kept}" in out
    assert "2/3 kept heads found" in out  # seals 1 and 2 kept in the file, seal 2 as the run before saw it
    assert f"  INVALID head_changed: {LOOKUPS} seal 2 differs from the head kept in {kept}" in out


def _kept_chain(path, position):
    return next(json.loads(line)["chain"] for line in Path(path).read_text().splitlines()
                if json.loads(line).get("table") == LOOKUPS and json.loads(line).get("position") == position)


def test_a_cut_chain_fails_against_the_portals_heads_file(two_seals):
    _cut_and_change(two_seals)
    out, error = verify_command()
    chain = _kept_chain(settings.AUDIT_HEADS_FILE, 2)
    assert error == (f"Verification failed: {LOOKUPS} seal 2 kept in {settings.AUDIT_HEADS_FILE} "
                     f"(chain {chain[:16]}…) is missing: the chain ends at seal 1.")
    assert "INVALID record_" not in out  # the changed records are no longer under any seal: only the head says it


def test_the_seals_downloaded_from_the_page_catch_a_regrown_chain(two_seals, settings, client, inspector, tmp_path):
    login(client, inspector)
    response = client.get(reverse("audit:seal_download"))
    download = tmp_path / "seals-all.jsonl"
    download.write_bytes(b"".join(response.streaming_content))
    _cut_and_change(two_seals)
    _regrow_without_heads(settings)
    out, error = verify_command("--heads", str(download))
    assert error.startswith(f"Verification failed: {LOOKUPS} seal 2 differs from the head kept in {download}")
    assert "1/1 kept heads found" in out  # the events' chain, untouched
    assert "1/2 kept heads found" in out


def test_verification_compares_with_the_previous_run_without_any_file(two_seals, settings):
    settings.AUDIT_HEADS_FILE = ""
    assert verify_command()[1] is None
    previous = SealVerification.objects.order_by("-id").first()
    _cut_and_change(two_seals)
    regrown = table_seal(LOOKUPS)[0]
    out, error = verify_command()
    assert error.startswith(f"Verification failed: {LOOKUPS} seal 2 differs from the head kept in verification "
                            f"run {previous.pk} (chain")
    assert regrown.chain[:16] in error


def test_a_deleted_verification_history_is_noticed(two_seals):
    assert verify_command()[1] is None
    assert verify_command()[1] is None
    runs = list(SealVerification.objects.order_by("id"))
    with replication_role() as cursor:
        cursor.execute("DELETE FROM audit_sealverification")
    out, error = verify_command()
    assert error == (f"Verification failed: audit_sealverification verification run {runs[0].pk} of "
                     f"{runs[0].finished_at.isoformat()} is missing from the history.")
    assert "Verification history: 0/2 kept runs found" in out
    assert [line["kind"] for line in _heads_lines()][-3:] == ["verification"] * 3


def test_a_verification_run_changed_in_the_history_is_noticed(two_seals):
    assert verify_command()[1] is None
    run = SealVerification.objects.get()
    with replication_role() as cursor:
        cursor.execute("UPDATE audit_sealverification SET ok = false WHERE id = %s", [run.pk])
    _out, error = verify_command()
    assert error == (f"Verification failed: audit_sealverification verification run {run.pk} differs from the one "
                     "kept outside the database.")


def test_a_new_heads_file_takes_the_chain_as_it_stands(settings, tmp_path):
    settings.AUDIT_HEADS_FILE = ""
    lookup_records(2)
    table_seal(LOOKUPS)
    settings.AUDIT_HEADS_FILE = str(tmp_path / "new" / "heads.jsonl")
    lookup_records(1)
    table_seal(LOOKUPS)
    assert [(line["table"], line["position"]) for line in _heads_lines()] == [(LOOKUPS, 1), (LOOKUPS, 2)]


def test_a_torn_last_line_does_not_swallow_the_next_head(two_seals):
    with Path(settings.AUDIT_HEADS_FILE).open("a") as handle:
        handle.write('{"kind":"seal","tab')
    lookup_records(1)
    [third] = table_seal(LOOKUPS)
    lines = Path(settings.AUDIT_HEADS_FILE).read_text().splitlines()
    assert lines[-2] == '{"kind":"seal","tab'
    assert json.loads(lines[-1])["chain"] == third.chain
    assert verify_command()[1] is None


def test_it_refuses_a_file_that_holds_no_head(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"format": "portal-seal-v1"}\n')
    assert verify_command("--heads", str(empty))[1] == f"No seal head in {empty}: not a heads file or a seals download."
    assert verify_command("--heads", str(tmp_path / "none.jsonl"))[1].startswith("Cannot read the kept heads:")


# ----- every id covered ----------------------------------------------------------------------------

def _copy_with_id(table: str, source_id: int, new_id: int | None, **changes) -> int:
    """A copy of a record inserted by hand, with the id given (None: the next of the sequence)."""
    sets = "".join(f", {column} = %s" for column in changes)
    with replication_role() as cursor:
        if new_id is None:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])
            new_id = cursor.fetchone()[0]
        cursor.execute(f"CREATE TEMP TABLE forged AS SELECT * FROM {table} WHERE id = %s", [source_id])
        cursor.execute(f"UPDATE forged SET id = %s{sets}", [new_id, *changes.values()])
        cursor.execute(f"INSERT INTO {table} SELECT * FROM forged")
        cursor.execute("DROP TABLE forged")
    return new_id


@pytest.mark.parametrize("forged_id", [0, -5])
def test_records_at_or_below_id_0_are_read(two_seals, forged_id):
    from audit.models import SecurityEvent

    _copy_with_id(EVENTS, SecurityEvent.objects.order_by("id").first().pk, forged_id)
    out, error = verify_command()
    assert error == (f"Verification failed: {EVENTS} record {forged_id} lies outside the chain (ids start at 1): "
                     "added by hand.")
    assert f"  INVALID record_outside_chain: {EVENTS} record {forged_id} lies outside the chain" in out


def test_a_backdated_record_appended_at_the_end_is_reported(two_seals):
    [honest] = security_events(1)
    forged_time = timezone.now() - timedelta(days=30)
    forged = _copy_with_id(EVENTS, honest, None, occurred_at=forged_time)
    seals_run()
    assert Seal.objects.filter(table_name=EVENTS, last_id__gte=forged).exists()  # sealed without comment
    out, error = verify_command("--table", EVENTS)
    assert error is not None and error.startswith(
        f"Verification failed: {EVENTS} record {forged} (seal 2) dated "
        f"{timezone.localtime(forged_time).isoformat(timespec='seconds')}, before record {honest} dated ")
    assert error.endswith(": its time runs backwards.")


def test_records_a_few_seconds_out_of_order_are_not_reported():
    lookup_records(2)
    lookup_records(1, decided_at=timezone.now() - timedelta(seconds=30))
    seals_run()
    assert verify_command()[1] is None


@pytest.mark.django_db(transaction=True)
def test_each_head_also_goes_to_a_syslog_host(tmp_path):
    """The sealing command, as the job runs it, with AUDIT_HEADS_SYSLOG set: a real UDP syslog peer."""
    import os
    import socket
    import subprocess
    import sys

    from django.db import connection

    ids = lookup_records(2)
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(30)
    database = connection.settings_dict
    heads_file = tmp_path / "heads.jsonl"
    env = {**os.environ, "DEBUG": "1", "DB_CONN_MAX_AGE": "0", "AUDIT_HEADS_FILE": str(heads_file),
           "AUDIT_HEADS_SYSLOG": f"127.0.0.1:{receiver.getsockname()[1]}",
           "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"}
    try:
        finished = subprocess.run([sys.executable, "manage.py", "audit_seal", "--table", LOOKUPS, "--wait", "0"],
                                  cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True,
                                  timeout=120)
        assert finished.returncode == 0, finished.stdout + finished.stderr
        datagram = receiver.recv(65536).decode()
    finally:
        receiver.close()
    seal = Seal.objects.get(table_name=LOOKUPS)
    assert seal.last_id >= ids[-1]
    assert datagram.startswith("<38>")  # facility auth (4 × 8) + level info (6)
    sent = json.loads(datagram[datagram.index("{"):].rstrip("\x00"))
    assert (sent["table"], sent["position"], sent["chain"]) == (LOOKUPS, 1, seal.chain)
    assert json.loads(heads_file.read_text().splitlines()[-1]) == sent


def test_the_seals_page_names_a_cut_chain_in_vietnamese(two_seals, client, inspector):
    _cut_and_change(two_seals)
    verify_command()
    page = login(client, inspector).get(reverse("audit:seals")).content.decode()
    assert ("Niêm phong số 2 của nhật ký tra cứu, đã lưu ngoài cơ sở dữ liệu, không còn trong chuỗi: chuỗi đã bị "
            "cắt.") in page
    assert "Hằng tháng hãy tải toàn bộ niêm phong về và lưu ngoài cổng" in page


def test_a_record_dated_in_the_future_is_reported_and_does_not_blame_the_next_ones(two_seals):
    [honest] = security_events(1)
    forged = _copy_with_id(EVENTS, honest, None, occurred_at=timezone.now() + timedelta(days=30))
    after = security_events(2)
    seals_run()
    out, error = verify_command("--table", EVENTS)
    assert error is not None and error.startswith(f"Verification failed: {EVENTS} record {forged} (seal 2) dated ")
    assert error.endswith(", in the future: its time is forged.")
    assert all(f"record {record_id} " not in out for record_id in after)


def test_a_head_lost_between_commit_and_write_is_kept_at_the_next_run(monkeypatch):
    """A sealer that dies after its commit, before its write (here: the write fails): the seal stands,
    and the next run keeps its head first instead of taking the chain for one that went backwards."""
    import audit.sealing

    lookup_records(2)
    table_seal(LOOKUPS)

    def disk_full(entries):
        if list(entries):  # nothing to write writes nothing, as heads_append does
            raise OSError("No space left on device")
        return 0

    with monkeypatch.context() as patch:
        patch.setattr(audit.sealing, "heads_append", disk_full)
        lookup_records(1)
        with pytest.raises(OSError):
            table_seal(LOOKUPS)
    assert Seal.objects.filter(table_name=LOOKUPS).count() == 2
    assert [line["position"] for line in _heads_lines()] == [1]
    lookup_records(1)
    [third] = table_seal(LOOKUPS)
    assert [line["position"] for line in _heads_lines()] == [1, 2, 3] and third.position == 3
    assert verify_command("--table", LOOKUPS)[1] is None


def test_a_position_kept_with_two_chains_reports_the_one_that_differs(two_seals, tmp_path):
    seal = Seal.objects.get(table_name=LOOKUPS, position=2)
    kept = tmp_path / "kept.jsonl"
    kept.write_text("".join(json.dumps({"table": LOOKUPS, "position": 2, "chain": chain}) + "\n"
                            for chain in (seal.chain, "0" * 64, seal.chain)))
    out, error = verify_command("--table", LOOKUPS, "--heads", str(kept))
    assert error == (f"Verification failed: {LOOKUPS} seal 2 differs from the head kept in {kept} "
                     f"(chain {'0' * 16}… kept, {seal.chain[:16]}… found).")
    assert "1/2 kept heads found" in out
