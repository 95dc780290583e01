"""Large exports as background jobs with progress (a real worker), scoped to their owner; the IT
Center's zone thresholds (audited, refused to others, bad input changes nothing)."""

import pytest
from django.urls import reverse

from audit.choices import EventKind
from audit.models import SecurityEvent
from compliance import views as compliance_views
from compliance.models import ComplianceThresholds, ExportJob
from tests.factories import UserFactory
from tests.helpers import login, xlsx_table


@pytest.mark.django_db(transaction=True)
def test_a_large_export_runs_in_the_background_and_holds_only_the_subtree(client, units, leader_bien_hoa,
                                                                          officer_long_khanh, celery_worker,
                                                                          monkeypatch):
    from compliance.tasks import export_run

    monkeypatch.setattr(compliance_views, "INLINE_LIMIT", 2)
    for number in range(4):
        UserFactory(unit=units["tan_phong"], username=f"cb.tp{number}")
    login(client, leader_bien_hoa)
    before = celery_worker.runs_of(export_run)
    response = client.get("/compliance/export/accounts.xlsx")
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("compliance:export_job", args=[job.pk])
    assert job.rows_total == 5  # the leader and four officers of Tân Phong; not Long Khánh's
    celery_worker.wait_done(export_run, before + 1)
    progress = client.get(reverse("compliance:export_progress", args=[job.pk])).json()
    assert progress == {"state": "done", "running": False, "rows_done": 5, "rows_total": 5}
    download = client.get(reverse("compliance:export_download", args=[job.pk]))
    _sheet, rows = xlsx_table(download.content)
    assert sorted(row[0] for row in rows[1:]) == ["cb.tp0", "cb.tp1", "cb.tp2", "cb.tp3", "ld.bienhoa"]
    assert SecurityEvent.objects.filter(kind=EventKind.LIST_EXPORTED).count() == 1
    # Someone else's job does not exist for them.
    login(client, officer_long_khanh)
    assert client.get(reverse("compliance:export_download", args=[job.pk])).status_code == 404
    assert client.get(reverse("compliance:export_progress", args=[job.pk])).status_code == 404


@pytest.mark.django_db
def test_a_redelivered_export_job_does_nothing_twice(units, leader_bien_hoa):
    from compliance.services import export_job_run

    job = ExportJob.objects.create(requested_by=leader_bien_hoa, list_name="accounts", file_format="csv", rows_total=1)
    export_job_run(job_id=job.pk)
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == ExportJob.State.DONE
    assert bytes(job.content).decode("utf-8-sig").splitlines()[1].startswith("ld.bienhoa,")
    assert SecurityEvent.objects.filter(kind=EventKind.LIST_EXPORTED).count() == 1


@pytest.mark.django_db
def test_the_it_center_sets_the_zones_and_the_change_is_audited(admin_client, it_admin):
    response = admin_client.post("/compliance/zones/", {"good_from": "85", "attention_from": "60"})
    assert response.status_code == 302
    thresholds = ComplianceThresholds.objects.get()
    assert (thresholds.good_from, thresholds.attention_from) == (85, 60)
    event = SecurityEvent.objects.get(kind=EventKind.COMPLIANCE_THRESHOLDS_CHANGED)
    assert event.details == {"old": {"good_from": 90, "attention_from": 70}, "new": {"good_from": 85, "attention_from": 60}}


@pytest.mark.django_db
def test_unordered_zones_are_refused_in_vietnamese_and_change_nothing(admin_client):
    response = admin_client.post("/compliance/zones/", {"good_from": "60", "attention_from": "80"})
    assert response.status_code == 200
    assert "phải thấp hơn" in response.content.decode()
    assert ComplianceThresholds.objects.count() == 0
    assert admin_client.post("/compliance/zones/", {"good_from": "abc"}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["leader_bien_hoa", "inspector"])
def test_only_the_it_center_sets_the_zones(client, who, request):
    login(client, request.getfixturevalue(who))
    assert client.post("/compliance/zones/", {"good_from": "85", "attention_from": "60"}).status_code == 403
    assert ComplianceThresholds.objects.count() == 0
