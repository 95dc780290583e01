"""The timeline and the evidence are append-only in the database itself (audit.operations), and the
first version of the deadline rules is seeded here — data the IT Center edits on the rules page, each
rule with its legal basis (nothing about a deadline is written in the code)."""
import datetime

from django.db import migrations

from audit.operations import MakeAppendOnly

# Version 1: the rules in force since Law 91/2025/QH15 on personal data protection took effect.
RULE_SET = {
    "number": 1,
    "title": "Thông tư 20/2017/TT-BTTTT và Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15",
    "effective_from": datetime.date(2026, 1, 1),
    # The new Law on Cybersecurity takes effect on 01/07/2026: the IT Center reviews these rules then
    # and adds a new version (the rules page reminds it from this day on).
    "review_by": datetime.date(2026, 7, 1),
    "note": ("Luật An ninh mạng mới có hiệu lực từ ngày 01/07/2026: Trung tâm CNTT rà soát các thời hạn và "
             "tạo phiên bản mới có hiệu lực từ ngày đó nếu quy định thay đổi."),
}
RULES = [
    {"code": "initial_report", "label": "Báo cáo ban đầu sự cố an toàn thông tin mạng",
     "legal_basis": "Thông tư 20/2017/TT-BTTTT (điều phối, ứng cứu sự cố an toàn thông tin mạng): báo cáo trong "
                    "05 ngày kể từ khi phát hiện sự cố",
     "authority": "Cơ quan điều phối quốc gia về ứng cứu sự cố và cơ quan chủ quản",
     "kind": "deadline", "applies_to": "all", "starts_from": "discovered", "amount": 5, "period_unit": "days",
     "remind_hours_before": 48},
    {"code": "final_report", "label": "Báo cáo kết thúc ứng cứu sự cố",
     "legal_basis": "Thông tư 20/2017/TT-BTTTT: báo cáo kết thúc trong 05 ngày sau khi kết thúc ứng cứu sự cố",
     "authority": "Cơ quan điều phối quốc gia về ứng cứu sự cố và cơ quan chủ quản",
     "kind": "deadline", "applies_to": "all", "starts_from": "response_ended", "amount": 5, "period_unit": "days",
     "remind_hours_before": 48},
    {"code": "breach_notification_a05", "label": "Thông báo vi phạm dữ liệu cá nhân",
     "legal_basis": "Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15 (có hiệu lực từ 01/01/2026): thông báo trong "
                    "72 giờ kể từ khi phát hiện vi phạm",
     "authority": "Cục An ninh mạng và phòng, chống tội phạm sử dụng công nghệ cao (A05), Bộ Công an",
     "kind": "deadline", "applies_to": "personal_data", "starts_from": "discovered", "amount": 72,
     "period_unit": "hours", "remind_hours_before": 24},
    {"code": "breach_record_retention", "label": "Lưu giữ hồ sơ vi phạm dữ liệu cá nhân",
     "legal_basis": "Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15 và Nghị định 356/2025/NĐ-CP: lưu giữ tối thiểu "
                    "05 năm",
     "authority": "", "kind": "retention", "applies_to": "personal_data", "starts_from": "closed", "amount": 5,
     "period_unit": "years", "remind_hours_before": 0},
]


def seed(apps, schema_editor):
    RuleSet = apps.get_model("incidents", "DeadlineRuleSet")
    Rule = apps.get_model("incidents", "DeadlineRule")
    if RuleSet.objects.filter(number=RULE_SET["number"]).exists():
        return
    rule_set = RuleSet.objects.create(created_by_name="system:migration", **RULE_SET)
    for rule in RULES:
        Rule.objects.create(rule_set=rule_set, **rule)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial"), ("audit", "0002_append_only")]
    operations = [
        MakeAppendOnly("incidents_timelineentry"),
        MakeAppendOnly("incidents_evidence"),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
