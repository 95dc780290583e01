"""Vietnamese first, English by switch; the Vietnamese catalogue is complete."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from django.urls import reverse

PO_FILE = Path(__file__).resolve().parents[2] / "locale" / "vi" / "LC_MESSAGES" / "django.po"


def test_it_speaks_vietnamese_by_default(client, db):
    page = client.get(reverse("login")).content.decode()
    assert "Đăng nhập" in page and "Tên đăng nhập" in page


def test_it_stays_vietnamese_for_an_english_browser(client, db):
    page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Đăng nhập" in page


def test_it_switches_to_english(client, db):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("login")).content.decode()
    assert "Log in" in page and "Đăng nhập" not in page


def test_it_has_every_string_translated_into_vietnamese():
    result = subprocess.run(["msgfmt", "--statistics", "-o", "/dev/null", str(PO_FILE)],
                            capture_output=True, text=True, check=True)
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


def test_it_has_a_catalogue_entry_for_every_string_in_the_code(tmp_path):
    """makemessages over a copy of the current code finds nothing the committed catalogue lacks."""
    root = PO_FILE.parents[3]
    work = tmp_path / "tree"
    shutil.copytree(root, work, ignore=shutil.ignore_patterns(
        ".venv", ".git", "artifacts", "staticfiles", "*.mo", "__pycache__", "tests", "bench", ".trial"))
    subprocess.run([sys.executable, "manage.py", "makemessages", "--locale", "vi", "--no-obsolete", "-v", "0"],
                   cwd=work, env={**os.environ, "DEBUG": "1"}, check=True, capture_output=True)
    fresh = subprocess.run(["msgfmt", "--statistics", "-o", "/dev/null", str(work / "locale/vi/LC_MESSAGES/django.po")],
                           capture_output=True, text=True, check=True)
    assert "untranslated" not in fresh.stderr and "fuzzy" not in fresh.stderr, fresh.stderr
