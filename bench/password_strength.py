"""Benchmark for issue #4: how many Vietnamese-style guessable passwords each checker accepts.

Run from the repository root:  .venv/bin/python bench/password_strength.py [--seed N] [--size N]

It generates its own corpus with a fixed seed:
* guessable -- names, places, phrases and office words as officers write them (accents or not,
  capitalised, leetspeak, symbols between parts) plus a year, a date in one of the usual forms, a
  phone number or an easy number, and one symbol; every one meets the letter's composition rule;
* strong -- random 12-16 character passwords and 4-6 word passphrases (Vietnamese syllables,
  English words or both, with a capital, a digit and a symbol so that they meet the rule too).

and runs three checkers over both sets: Django's four default validators, plain zxcvbn with
score >= 3, and the portal's policy (validate_password with the portal's AUTH_PASSWORD_VALIDATORS).
The word lists below are the benchmark's own, typed separately from policy/wordlists/, so the
corpus also measures how well the shipped lists cover what officers actually use.
"""

from __future__ import annotations

import argparse
import os
import random
import string
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")  # the embedded defaults of `make run`; no secrets needed
# A throwaway database and cache: the validators read the policy row (its defaults, once migrated),
# and a benchmark must never write into a real database or Redis. The database is a test database
# beside BENCH_DATABASE_URL's (Django's test_ prefix), made and dropped by this run.
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench")
os.environ["REDIS_URL"] = ""

import django  # noqa: E402

# --- the benchmark's own vocabulary (with accents, as people think of the words) ----------------

FAMILY = (
    ["Nguyễn"] * 12 + ["Trần"] * 4 + ["Lê"] * 4 + ["Phạm"] * 3
    + "Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Trương Đinh Đoàn Lâm Mai Cao Lưu Tô Hà Tạ "
    "Châu Quách Thái Phùng Trịnh Lương Kiều Triệu".split()
)
MIDDLE = (
    ["Văn"] * 6 + ["Thị"] * 6
    + "Ngọc Minh Thanh Đức Hữu Quốc Hoàng Xuân Thu Kim Hồng Phương Bảo Gia Quang Tuấn Công Đình "
    "Trung Hải Như Mỹ Khánh Thùy Bích".split()
)
GIVEN = (
    "An Anh Bảo Bích Bình Châu Chi Cường Dũng Dung Duy Dương Đạt Điệp Định Đông Đức Giang Hà Hải "
    "Hạnh Hằng Hân Hậu Hiền Hiếu Hiệp Hòa Hoa Hoàng Hồng Huệ Hùng Hưng Hương Huy Huyền Kha Khải "
    "Khang Khanh Khánh Khoa Khôi Kiên Kiệt Lam Lan Liên Linh Loan Lộc Long Luân Ly Mai Mạnh Minh "
    "My Nam Nga Ngân Nghĩa Ngọc Nguyên Nhàn Nhân Nhi Nhung Oanh Phát Phong Phúc Phụng Phước Phương "
    "Quân Quang Quế Quốc Quyên Quỳnh Sang Sơn Tài Tâm Tân Thái Thắm Thắng Thanh Thành Thảo Thịnh "
    "Thơ Thu Thủy Thư Thương Tiến Tín Toàn Trâm Trang Trí Trinh Trọng Trung Trúc Tú Tuấn Tùng "
    "Tuyết Uyên Vân Việt Vinh Vũ Vy Xuân Yến Đào Lụa Mận Sương Thoa Nhạn Huấn Khiêm Quý Tường "
    "Thiện Luyến Kiều Ngà Diễm Trường Lực Thoại Bằng Tuệ Tấn Nhựt Sỹ Hiển Lợi Hạ Thuận Tâm".split()
)
PLACES = [
    "Biên Hòa", "Long Khánh", "Long Thành", "Nhơn Trạch", "Trảng Bom", "Thống Nhất", "Cẩm Mỹ",
    "Xuân Lộc", "Định Quán", "Tân Phú", "Vĩnh Cửu", "Đồng Nai", "Hố Nai", "Tam Hiệp", "Long Bình",
    "Trảng Dài", "Bửu Long", "Tân Mai", "Quang Vinh", "Dầu Giây", "Gia Ray", "Long Giao",
    "Xuân Trung", "Xuân Thanh", "Bảo Vinh", "Suối Tre", "Hàng Gòn", "Bàu Hàm", "Gia Kiệm", "Phú Hữu",
    "Đại Phước", "Tà Lài", "La Ngà", "Trị An", "Phú Lý", "Xuân Đường", "Sông Ray", "Xuân Bắc",
    "Xuân Hòa", "Xuân Phú", "Bình Lộc", "Tân Triều", "Trấn Biên", "Phước Tân", "Tam Phước",
    "An Phước", "Long Hưng", "Hiệp Hòa", "Sài Gòn", "Hà Nội", "Đà Nẵng", "Vũng Tàu", "Đà Lạt",
    "Nha Trang", "Cần Thơ", "Huế", "Hải Phòng", "Bình Dương", "Phú Quốc", "Hạ Long", "Sa Pa",
    "Việt Nam", "Bình Phước", "Đồng Xoài", "Thủ Đức", "Nghệ An", "Thanh Hóa", "Quảng Ngãi",
]
PHRASES = [
    "Mật khẩu", "Anh yêu em", "Em yêu anh", "Xin chào", "Tôi yêu Việt Nam", "Yêu em", "Hạnh phúc",
    "Gia đình", "Tình yêu", "Quê hương", "Việt Nam vô địch", "Mãi mãi", "Yêu em mãi mãi",
    "Chúc mừng", "Thành công", "Bình an", "Mẹ yêu", "Con yêu", "Bé yêu", "I love you", "Doremon",
    "Mật khẩu mới", "Đổi mật khẩu", "Nhớ em", "Thương em", "Bạn bè", "Tuổi trẻ", "Hoa hồng",
]
OFFICE = [
    "UBND", "HĐND", "CNTT", "Một cửa", "Dịch vụ công", "Cán bộ", "Công chức", "Sở TTTT", "STTTT",
    "TTTT", "Trung tâm", "Hành chính", "Văn phòng", "Tư pháp", "Nội vụ", "Tài chính", "Công an",
    "Thanh tra", "Tiếp nhận", "Hồ sơ", "VNPT", "Viettel", "Admin", "Quản trị", "Chủ tịch",
]
# Everyday syllables for Vietnamese passphrases: nouns, verbs and adjectives rather than names.
VIETNAMESE_SYLLABLES = (
    "bàn ghế sách vở bút mực giấy cửa sổ nhà bếp vườn cây lá hoa quả rễ cành cỏ đá cát sông "
    "suối biển hồ núi đồi rừng mây gió mưa nắng sương trăng sao trời đất nước lửa khói bụi đèn "
    "xe thuyền cầu đường phố chợ làng quê ruộng lúa ngô khoai sắn mía chè cà phê sữa bánh kẹo "
    "cơm cháo phở bún miến thịt cá tôm cua gà vịt lợn trâu bò dê ngựa chim mèo chó chuột rắn "
    "ếch cáo gấu hổ voi khỉ thỏ rùa ong bướm kiến muỗi nhện ốc hến sò dừa chuối cam quýt bưởi "
    "xoài mít ổi nhãn vải mận đào lê táo nho dưa bí mướp cà ớt tỏi hành gừng nghệ tiêu muối "
    "đường mắm dầu chén đũa thìa nồi chảo ấm ly cốc bình lọ gương lược kéo dao búa đinh ốc vít "
    "dây thừng túi ví giày dép áo quần mũ nón khăn gối chăn màn đệm tủ kệ giá thang gạch ngói "
    "xanh đỏ tím vàng trắng đen nâu xám hồng cam chạy nhảy bơi bay đi đứng ngồi nằm ăn uống "
    "ngủ thức cười khóc hát múa đọc viết vẽ nghe nhìn nói kể hỏi đáp mở đóng kéo đẩy nâng hạ "
    "nhanh chậm cao thấp dài ngắn to nhỏ nặng nhẹ nóng lạnh khô ướt mới cũ sạch bẩn thơm ngọt "
    "chua cay đắng mặn nhạt sáng tối xa gần vui buồn giận sợ thương nhớ mong chờ đợi tìm thấy "
    "mất được thua thắng trống kèn đàn sáo chuông trống tranh thơ nhạc phim ảnh"
).split()
SYMBOLS = "@@@@@@..__##!!**-&$"
PASSPHRASE_SYMBOLS = "!@#$%&*?"


# --- corpus -------------------------------------------------------------------------------------

def strip_accents(text: str) -> str:
    from policy.strength import fold

    return "".join(f if c.islower() or not c.isalpha() else f.upper() for c, f in zip(text, fold(text)))


def meets_composition(password: str) -> bool:
    """The letter's rule: at least 8 characters with upper, lower, digit and a special character."""
    return (
        len(password) >= 8
        and any(c.isupper() for c in password)
        and any(c.islower() for c in password)
        and any(c.isdigit() for c in password)
        and any(not c.isalnum() and not c.isspace() for c in password)
    )


LEET = {"a": "@4", "o": "0", "i": "1", "e": "3", "s": "5$", "t": "7", "l": "1"}


def guessable_words(rng: random.Random) -> tuple[str, list[str]]:
    """A base as officers pick it: their name, their place, a phrase, their office -- and its words."""
    family, middle, given, second_given = rng.choice(FAMILY), rng.choice(MIDDLE), rng.choice(GIVEN), rng.choice(GIVEN)
    shapes = [
        ("name", [given]), ("name", [family, given]), ("name", [given, family]),
        ("name", [family, middle, given]), ("name", [middle, given]), ("name", [family, given, second_given]),
        ("place", [rng.choice(PLACES)]), ("place", [rng.choice(PLACES)]),
        ("phrase", [rng.choice(PHRASES)]),
        ("office", [rng.choice(OFFICE)]), ("office", [rng.choice(OFFICE), rng.choice(PLACES)]),
        ("name+place", [given, rng.choice(PLACES)]),
    ]
    return rng.choice(shapes)


def guessable_number(rng: random.Random) -> tuple[str, str]:
    day, month = rng.randint(1, 28), rng.randint(1, 12)
    year = rng.choice([rng.randint(1955, 2005), rng.randint(2015, 2026)])
    yy = f"{year % 100:02d}"
    forms = [
        ("year", str(year)), ("year", str(year)), ("year", str(year)),
        ("ddmmyyyy", f"{day:02d}{month:02d}{year}"), ("dd/mm/yyyy", f"{day:02d}/{month:02d}/{year}"),
        ("dd.mm.yyyy", f"{day}.{month}.{year}"), ("ddmmyy", f"{day:02d}{month:02d}{yy}"),
        ("yymmdd", f"{yy}{month:02d}{day:02d}"), ("ddmm", f"{day:02d}{month:02d}"),
        ("phone", "0" + rng.choice("35789") + "".join(rng.choice(string.digits) for _ in range(8))),
        ("phone +84", "+84" + rng.choice("35789") + "".join(rng.choice(string.digits) for _ in range(8))),
        ("easy number", rng.choice(["123", "1234", "12345", "123456", "68", "86", "99", "88", "666", "6789", "1"])),
        ("two digits", yy),
    ]
    return rng.choice(forms)


def dress_word(word: str, rng: random.Random, style: str) -> str:
    keep_accents = style == "accents"
    text = word if keep_accents else strip_accents(word)
    parts = text.split()
    if word.isupper() and rng.random() < 0.5:
        parts = [p.capitalize() for p in parts]  # "Ubnd" rather than "UBND"
    elif rng.random() < 0.6:
        parts = [p.capitalize() if i == 0 else p.lower() for i, p in enumerate(parts)]
    else:
        parts = [p.capitalize() for p in parts]
    joined = "".join(parts)
    if style == "leet":
        joined = "".join(
            rng.choice(LEET[c]) if c in LEET and rng.random() < 0.5 else c for c in joined
        )
    return joined


def guessable_password(rng: random.Random) -> tuple[str, str]:
    while True:
        base_kind, words = guessable_words(rng)
        style = rng.choice(["plain", "plain", "plain", "accents", "leet", "separated"])
        dressed = [dress_word(w, rng, style) for w in words]
        number_kind, number = guessable_number(rng)
        symbol = rng.choice(SYMBOLS)
        base = (rng.choice(".-_@") if style == "separated" else "").join(dressed)
        if not base[:1].isupper():
            base = base[:1].upper() + base[1:]
        layout = rng.choice(["w s n", "w s n", "w s n", "w n s", "n s w", "s w n", "w s n s"])
        pieces = {"w": base, "s": symbol, "n": number}
        password = "".join(pieces[p] for p in layout.split())
        if meets_composition(password):
            return password, f"{base_kind} + {number_kind} ({style})"


def random_password(rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits + string.punctuation
    while True:
        password = "".join(rng.choice(alphabet) for _ in range(rng.randint(12, 16)))
        if meets_composition(password):
            return password


def english_words() -> list[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    # A diceware-sized list (EFF's has 7,776 words): the 8,000 commonest plain English words.
    words = [w for w in FREQUENCY_LISTS["english_wikipedia"] if w.isalpha() and 4 <= len(w) <= 8]
    return words[:8000]


def passphrase(rng: random.Random, english: list[str]) -> tuple[str, str]:
    while True:
        count = rng.randint(4, 6)
        language = rng.choice(["vietnamese", "english", "mixed"])
        accents = rng.random() < 0.5
        words = []
        for _ in range(count):
            vietnamese = language == "vietnamese" or (language == "mixed" and rng.random() < 0.5)
            word = rng.choice(VIETNAMESE_SYLLABLES) if vietnamese else rng.choice(english)
            words.append(word if accents else strip_accents(word))
        separator = rng.choice([" ", "-", ".", "_", ""])
        if separator == "":
            words = [w.capitalize() for w in words]
        else:
            i = rng.randrange(count)
            words[i] = words[i].capitalize()
        i = rng.randrange(count)
        words[i] = words[i] + str(rng.randint(0, 99))
        password = separator.join(words)
        if separator in " " or rng.random() < 0.5:
            password += rng.choice(PASSPHRASE_SYMBOLS)
        if meets_composition(password) and len(password) <= 128:
            return password, f"passphrase {count} words, {language}"


def build_corpus(seed: int, size: int):
    rng = random.Random(seed)
    guessable = [guessable_password(rng) for _ in range(size)]
    english = english_words()
    strong = [(random_password(rng), "random 12-16") for _ in range(size * 2 // 5)]
    strong += [passphrase(rng, english) for _ in range(size - len(strong))]
    return guessable, strong


# --- checkers -----------------------------------------------------------------------------------

def django_default_checker():
    from django.contrib.auth.password_validation import get_password_validators, validate_password
    from django.core.exceptions import ValidationError

    validators = get_password_validators([
        {"NAME": f"django.contrib.auth.password_validation.{name}"}
        for name in ("UserAttributeSimilarityValidator", "MinimumLengthValidator",
                     "CommonPasswordValidator", "NumericPasswordValidator")
    ])

    def accepts(password):
        try:
            validate_password(password, user=None, password_validators=validators)
        except ValidationError:
            return False
        return True

    return accepts


def plain_zxcvbn_checker():
    # zxcvbn's own dictionaries, rebuilt here, so nothing the portal adds can leak into the baseline.
    from zxcvbn import matching, scoring, time_estimates
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    dictionaries = {name: matching.build_ranked_dict(words) for name, words in FREQUENCY_LISTS.items()}
    dictionaries["user_inputs"] = {}

    def accepts(password):
        sample = password[:72]  # zxcvbn refuses longer input
        result = scoring.most_guessable_match_sequence(sample, matching.omnimatch(sample, dictionaries))
        return time_estimates.guesses_to_score(result["guesses"]) >= 3

    return accepts


def portal_checker():
    """The portal's policy exactly as a password change meets it: its AUTH_PASSWORD_VALIDATORS."""
    from django.conf import settings
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.db import connection

    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)

    def accepts(password):
        try:
            validate_password(password, user=None)
        except ValidationError:
            return False
        return True

    names = ", ".join(v["NAME"].rsplit(".", 1)[-1] for v in settings.AUTH_PASSWORD_VALIDATORS)
    return accepts, f"portal policy = validate_password(password, user=None) with {names}"


def measure(accepts, passwords):
    # CPU time of this process: the checks are CPU-bound, and wall time on a shared machine would
    # measure the neighbours as well.
    start = time.process_time()
    verdicts = [accepts(p) for p in passwords]
    elapsed = time.process_time() - start
    return verdicts, elapsed


def percent(verdicts):
    return 100.0 * sum(verdicts) / len(verdicts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--size", type=int, default=1200, help="passwords in each set")
    parser.add_argument("--examples", type=int, default=8, help="misjudged passwords to show")
    args = parser.parse_args()

    django.setup()
    portal_accepts, portal_label = portal_checker()
    guessable, strong = build_corpus(args.seed, args.size)
    guessable_passwords = [p for p, _ in guessable]
    strong_passwords = [p for p, _ in strong]
    everything = guessable_passwords + strong_passwords
    portal_accepts(everything[0])  # load the dictionaries before the clock starts

    rows = []
    results = {}
    for label, accepts in (
        ("Django default validators", django_default_checker()),
        ("zxcvbn 4.5.0, score >= 3", plain_zxcvbn_checker()),
        ("portal policy", portal_accepts),
    ):
        on_guessable, t1 = measure(accepts, guessable_passwords)
        on_strong, t2 = measure(accepts, strong_passwords)
        results[label] = (on_guessable, on_strong)
        rows.append((label, percent(on_guessable), percent(on_strong), 1000 * (t1 + t2) / len(everything)))

    baseline_ms = rows[1][3]
    print(f"Corpus: {len(guessable)} guessable, {len(strong)} strong (seed {args.seed}); "
          f"every password meets the composition rule.")
    print(f"Portal row: {portal_label}\n")
    print("| checker | guessable accepted | strong accepted | CPU ms / password | time vs zxcvbn |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, on_guessable, on_strong, ms in rows:
        print(f"| {label} | {on_guessable:.1f}% | {on_strong:.1f}% | {ms:.3f} | {ms / baseline_ms:.2f}x |")

    on_guessable, on_strong = results["portal policy"]
    print("\nPortal acceptance by kind of password:")
    for title, breakdown in (
        ("guessable, by base", lambda kind: kind.split(" + ")[0]),
        ("guessable, by number", lambda kind: kind.split(" + ")[1].split(" (")[0]),
        ("guessable, by dressing", lambda kind: kind.split("(")[1].rstrip(")")),
    ):
        print(f"  {title}: " + _shares(guessable, on_guessable, breakdown))
    print("  strong: " + _shares(strong, on_strong, lambda kind: kind))
    slipped = [p for (p, _), v in zip(guessable, on_guessable) if v][: args.examples]
    refused = [p for (p, _), v in zip(strong, on_strong) if not v][: args.examples]
    print(f"\nGuessable passwords the portal accepts (first {args.examples}): {slipped}")
    print(f"Strong passwords the portal refuses (first {args.examples}): {refused}")
    print(_coverage())


def _shares(corpus, verdicts, kind_of) -> str:
    by_kind: dict[str, list[bool]] = {}
    for (_, kind), verdict in zip(corpus, verdicts):
        by_kind.setdefault(kind_of(kind), []).append(verdict)
    return "; ".join(f"{kind} {percent(v):.1f}% of {len(v)}" for kind, v in sorted(by_kind.items()))


def _coverage() -> str:
    """How many of the benchmark's own words the shipped lists know (the rest rely on dressing rules)."""
    from policy.strength import VIETNAMESE_LISTS, fold, read_wordlist

    known = {word for stem in VIETNAMESE_LISTS for word in read_wordlist(stem)}
    ours = {"".join(fold(w).split()) for w in FAMILY + MIDDLE + GIVEN + PLACES + PHRASES + OFFICE}
    missing = sorted(ours - known)
    return (f"Benchmark words absent from policy/wordlists: {len(missing)} of {len(ours)}"
            + (f" ({', '.join(missing)})" if missing else ""))


if __name__ == "__main__":
    main()
