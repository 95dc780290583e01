"""Vietnam's public holidays (Labour Code 2019, article 112) for 2026–2030, preloaded so that the
turnover service level counts working days from the first day: New Year's Day; Tết (the last day of
the lunar year and the first four of the new one — the Prime Minister sets the exact days each year);
the Hùng Kings' Commemoration (10th day of the 3rd lunar month); 30 April; 1 May; National Day (2
September and one adjacent day, set each year). Lunar dates are computed for UTC+7 (Hồ Ngọc Đức's
algorithm: Tết 2026 on 17/02, Giỗ Tổ on 26/04). The IT Center edits the list on its holidays page
(compensatory days off, the year's own decisions); a date it already entered is left as it is, and
taking the migration back removes only the untouched preloaded rows."""
from datetime import date

from django.db import migrations

HOLIDAYS = [
    ("2026-01-01", "Tết Dương lịch"),
    ("2026-02-16", "Tết Nguyên đán (ngày cuối năm âm lịch)"),
    ("2026-02-17", "Tết Nguyên đán (mùng 1)"),
    ("2026-02-18", "Tết Nguyên đán (mùng 2)"),
    ("2026-02-19", "Tết Nguyên đán (mùng 3)"),
    ("2026-02-20", "Tết Nguyên đán (mùng 4)"),
    ("2026-04-26", "Giỗ Tổ Hùng Vương (10/3 âm lịch)"),
    ("2026-04-30", "Ngày Chiến thắng (30/4)"),
    ("2026-05-01", "Ngày Quốc tế Lao động (1/5)"),
    ("2026-09-01", "Quốc khánh (ngày liền kề 2/9; sửa theo thông báo của năm)"),
    ("2026-09-02", "Quốc khánh (2/9)"),
    ("2027-01-01", "Tết Dương lịch"),
    ("2027-02-05", "Tết Nguyên đán (ngày cuối năm âm lịch)"),
    ("2027-02-06", "Tết Nguyên đán (mùng 1)"),
    ("2027-02-07", "Tết Nguyên đán (mùng 2)"),
    ("2027-02-08", "Tết Nguyên đán (mùng 3)"),
    ("2027-02-09", "Tết Nguyên đán (mùng 4)"),
    ("2027-04-16", "Giỗ Tổ Hùng Vương (10/3 âm lịch)"),
    ("2027-04-30", "Ngày Chiến thắng (30/4)"),
    ("2027-05-01", "Ngày Quốc tế Lao động (1/5)"),
    ("2027-09-01", "Quốc khánh (ngày liền kề 2/9; sửa theo thông báo của năm)"),
    ("2027-09-02", "Quốc khánh (2/9)"),
    ("2028-01-01", "Tết Dương lịch"),
    ("2028-01-25", "Tết Nguyên đán (ngày cuối năm âm lịch)"),
    ("2028-01-26", "Tết Nguyên đán (mùng 1)"),
    ("2028-01-27", "Tết Nguyên đán (mùng 2)"),
    ("2028-01-28", "Tết Nguyên đán (mùng 3)"),
    ("2028-01-29", "Tết Nguyên đán (mùng 4)"),
    ("2028-04-04", "Giỗ Tổ Hùng Vương (10/3 âm lịch)"),
    ("2028-04-30", "Ngày Chiến thắng (30/4)"),
    ("2028-05-01", "Ngày Quốc tế Lao động (1/5)"),
    ("2028-09-01", "Quốc khánh (ngày liền kề 2/9; sửa theo thông báo của năm)"),
    ("2028-09-02", "Quốc khánh (2/9)"),
    ("2029-01-01", "Tết Dương lịch"),
    ("2029-02-12", "Tết Nguyên đán (ngày cuối năm âm lịch)"),
    ("2029-02-13", "Tết Nguyên đán (mùng 1)"),
    ("2029-02-14", "Tết Nguyên đán (mùng 2)"),
    ("2029-02-15", "Tết Nguyên đán (mùng 3)"),
    ("2029-02-16", "Tết Nguyên đán (mùng 4)"),
    ("2029-04-23", "Giỗ Tổ Hùng Vương (10/3 âm lịch)"),
    ("2029-04-30", "Ngày Chiến thắng (30/4)"),
    ("2029-05-01", "Ngày Quốc tế Lao động (1/5)"),
    ("2029-09-01", "Quốc khánh (ngày liền kề 2/9; sửa theo thông báo của năm)"),
    ("2029-09-02", "Quốc khánh (2/9)"),
    ("2030-01-01", "Tết Dương lịch"),
    ("2030-02-01", "Tết Nguyên đán (ngày cuối năm âm lịch)"),
    ("2030-02-02", "Tết Nguyên đán (mùng 1)"),
    ("2030-02-03", "Tết Nguyên đán (mùng 2)"),
    ("2030-02-04", "Tết Nguyên đán (mùng 3)"),
    ("2030-02-05", "Tết Nguyên đán (mùng 4)"),
    ("2030-04-12", "Giỗ Tổ Hùng Vương (10/3 âm lịch)"),
    ("2030-04-30", "Ngày Chiến thắng (30/4)"),
    ("2030-05-01", "Ngày Quốc tế Lao động (1/5)"),
    ("2030-09-01", "Quốc khánh (ngày liền kề 2/9; sửa theo thông báo của năm)"),
    ("2030-09-02", "Quốc khánh (2/9)"),
]


def preload(apps, schema_editor):
    Holiday = apps.get_model("accounts", "Holiday")
    for day, name in HOLIDAYS:
        Holiday.objects.get_or_create(date=date.fromisoformat(day), defaults={"name": name})


def unload(apps, schema_editor):
    Holiday = apps.get_model("accounts", "Holiday")
    for day, name in HOLIDAYS:
        Holiday.objects.filter(date=date.fromisoformat(day), name=name).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0015_document_numbers"),
    ]

    operations = [
        migrations.RunPython(preload, unload),
    ]
