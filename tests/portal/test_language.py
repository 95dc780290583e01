"""The words people read: no raw codes (a refusal's reason, an exported list, a week, a table name),
one spelling and one term per thing, one date-time order, a readable browser instead of a user agent."""
import pytest
from django.utils import translation

from portal.templatetags.user_agents import browser_name

pytestmark = pytest.mark.django_db

CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/131.0.0.0 Safari/537.36")
EDGE = CHROME_WINDOWS + " Edg/131.0.0.0"
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/17.5 Mobile/15E148 Safari/604.1")
COCCOC = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "coc_coc_browser/118.0.0 Chrome/112.0.0.0 Safari/537.36")


def test_a_user_agent_reads_as_a_browser_and_a_system():
    with translation.override("vi"):
        assert [browser_name(agent) for agent in (CHROME_WINDOWS, EDGE, SAFARI_IPHONE, COCCOC, "curl/8.5", "")] == [
            "Chrome trên Windows", "Microsoft Edge trên Windows", "Safari trên iOS", "Cốc Cốc trên Windows",
            "trình duyệt khác", "—"]


def test_event_details_name_the_refusal_and_the_exported_list():
    from audit.templatetags.audit_details import event_details

    with translation.override("vi"):
        shown = [(str(label), str(text)) for label, text in event_details({"reason": "locked"})]
        assert shown == [("Lý do", "Tên đăng nhập đang bị khóa do đăng nhập sai nhiều lần")]
        shown = [(str(label), str(text)) for label, text in event_details({"list": "accounts", "rows": 3})]
        assert ("Danh sách", "Tài khoản") in shown


def _translations() -> str:
    """Every msgstr of the Vietnamese catalogue (continuation lines included), msgids left out."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "locale/vi/LC_MESSAGES/django.po"
    texts, in_msgstr = [], False
    for line in path.read_text("utf-8").split("\n"):
        if line.startswith("msgstr"):
            in_msgstr = True
        elif not line.startswith('"'):
            in_msgstr = False
        if in_msgstr and '"' in line:
            texts.append(line[line.index('"') + 1:-1])
    return "".join(texts)


def test_the_catalogue_has_one_spelling_and_one_term_per_thing():
    translations = _translations()
    for old in ("khoá", "hoá", "hai lớp", "Nhật ký an toàn thông tin", "Mã đơn vị", "mã đơn vị",
                "Bảng điều khiển", "Trạng thái, Email"):
        assert old not in translations, old


def test_a_deadline_recorded_as_midnight_reads_as_the_end_of_the_day_before():
    from audit.templatetags.audit_details import event_details

    with translation.override("vi"):
        shown = [str(text) for _label, text in event_details({"due_at": "2026-12-08T00:00:00+07:00"})]
        assert shown == ["hết ngày 07/12/2026"]
        shown = [str(text) for _label, text in event_details({"due_at": "2026-12-08T10:30:00+07:00"})]
        assert shown == ["08/12/2026 10:30"]
