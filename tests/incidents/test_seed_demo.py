"""seed_demo seeds one sample incident (reported by demo.officer, triaged by demo.admin, not contained)."""
import io

from django.core.management import call_command

from incidents.choices import IncidentState
from incidents.demo import SOURCE_KEY
from incidents.models import Incident


def test_seed_demo_seeds_one_sample_incident_that_contains_nobody(db, settings):
    settings.DEBUG = True  # a trial machine: seed_demo refuses production settings
    for _ in range(2):
        call_command("seed_demo", password="Demo-Cong-An-Toan-2026!", totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
                     stdout=io.StringIO())
    incident = Incident.objects.get(source_key=SOURCE_KEY)
    assert Incident.objects.count() == 1
    assert (incident.state, incident.reporter.username, incident.handler.username) == (
        IncidentState.TRIAGED, "demo.officer", "demo.admin")
    assert incident.timeline.count() == 3
    assert incident.containments.count() == 0
