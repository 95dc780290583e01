"""Vietnamese-aware password strength (issue #4).

Officers here build passwords from a name, a place or a phrase plus a date and one symbol
(``Xuanloc@2024``, ``Hoanghieu@1974``, ``Ubnd1997@``). Such passwords meet the letter's composition
rule, and zxcvbn accepts almost all of them: its dictionaries are English, so it reads ``hieu@`` as
random characters. This module sees through the usual dressing (case, accents, leetspeak, symbols
between the parts), splits what is left into Vietnamese words and recognisable numbers, and

* feeds zxcvbn the Vietnamese word lists, the officer's own data and the recognised numbers, so its
  score counts them as guessable (``Assessment.score``);
* decides whether the password is *only* such parts (``Assessment.guessable_only``).

Pure Python on purpose (no models): the validators, account imports and ``bench/`` share it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NamedTuple, Sequence

from django.apps import apps
from django.conf import settings
from django.utils.translation import gettext, gettext_lazy
from zxcvbn import feedback as zxcvbn_feedback
from zxcvbn import matching, scoring, time_estimates
from zxcvbn.frequency_lists import FREQUENCY_LISTS

WORDLIST_DIR = Path(__file__).resolve().parent / "wordlists"

# Each shipped list and the kind of part its words are; a word's rank is its line in its list.
VIETNAMESE_LISTS = {
    "family_names": "family_name",
    "middle_names": "middle_name",
    "given_names": "given_name",
    "places_dong_nai": "place",
    "places_vietnam": "place",
    "password_phrases": "phrase",
    "government_words": "government",
    "common_words": "common_word",
}
# zxcvbn's own lists take part in the segmentation too, so "Iloveyou@Lan1990" or "Admin@Dongnai"
# are recognised, and an English passphrase is measured word by word instead of as noise.
ZXCVBN_LIST_KINDS = {
    "passwords": "common_password",
    "english_wikipedia": "english_word",
    "us_tv_and_film": "english_word",
    "surnames": "foreign_name",
    "male_names": "foreign_name",
    "female_names": "foreign_name",
}

# The policy asks for zxcvbn score >= 3, i.e. at least 1e8 guesses. The officer's birth date, year
# or phone number comes free to anyone targeting the officer (HR records, the unit's phone list),
# so the rest of a guessable-looking password -- its words, dressing and any other numbers -- must
# reach 1e8 on its own. A passphrase of four unrelated common words does (e.g. ranks 300 x 150 x
# 50 x 400 = 9e8); a name, a place or a phrase with a date does not.
GUESSABLE_STRENGTH_LOG10 = 8.0
# One stray letter is tolerated ("NguyenVanA@0912345678"); more means there is something the
# dictionaries do not know, and zxcvbn's score decides alone.
UNKNOWN_LETTER_BUDGET = 1
# zxcvbn's matching is quadratic in length (about 4 ms at 32 characters, 15 ms at 62) and it refuses
# more than 72, while the policy allows passphrases of 128. Its guesses grow as characters are
# added, so scoring the first 32 characters errs towards refusing: a password that is weak in its
# first 32 characters is refused, and anything longer that is strong already scores 4 there. The
# segmentation below still reads the whole password.
ZXCVBN_MAX_CHARS = 32

MAX_WORD_LENGTH = 24
MIN_WORD_LENGTH = 2
# Prefer one long known word ("longkhanh") to two short ones ("long" + "khanh") when costs are close.
PART_PENALTY_LOG10 = math.log10(2)
# An unrecognised letter is the last resort of the segmentation, so "xanh" is read as a word
# rather than as "x" + "anh"; its cost in the strength stays the honest 26 guesses.
UNKNOWN_LETTER_PENALTY_LOG10 = 1.0
# Someone targeting an officer tries the officer's own birth date, phone and years in a few
# spellings first: about ten guesses, however many dates or phones exist in general. That holds for
# one such number; a second one costs what it costs anybody (UNTARGETED_GUESSES).
PERSONAL_NUMBER_LOG10 = 1.0
UNTARGETED_GUESSES = {
    "year": 86,  # 1950-2035
    "date": 366 * 100,  # a day of a year, the year written with two or four digits
    "day_month": 366,
    "phone": 5 * 10**8,  # 0[35789] and eight digits
}
LEET_LETTERS = {
    "0": "o", "1": "il", "3": "e", "4": "a", "5": "s", "6": "g", "7": "t", "8": "b", "9": "g",
    "@": "a", "$": "s", "!": "i", "|": "il", "+": "t",
}
MAX_LEET_VARIANTS = 16
# A symbol closing a word is ambiguous: "Ng@17101964" is "Nga" + a date, but in "Tho.Tho@26" the
# @ separates. Passwords with one are read both ways and judged by the cheaper reading.
LEET_SYMBOLS = set("@$!|+")
COMMON_SYMBOLS = set("@._-#!*&$ +,")
# Written between the syllables of one name: "Đồng Nai", "Biên-Hòa", "dich.vu.cong" are still the
# listed "dongnai", "bienhoa", "dichvucong", at the cost of choosing the separator.
SYLLABLE_SEPARATORS = set(" .-_")
YEAR_RANGE = range(1950, 2036)
DIGIT_RUNS = ("01234567890", "09876543210")
KEYBOARD_WALKS = (
    "`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./", "~!@#$%^&*()_+",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/", "qazwsxedcrfvtgbyhnujmik,ol.p;/",
    "1q2w3e4r5t6y7u8i9o0p", "q1w2e3r4t5y6u7i8o9p0", "zaq1xsw2cde3vfr4bgt5nhy6mju7",
    "!qaz@wsx#edc$rfv%tgb", "qweasdzxc", "qwertasdfgzxcvb", "147258369", "741852963", "789456123",
    "159357", "1470258369",
)
DATE_WITH_SEPARATORS = re.compile(r"(\d{1,4})([/.\-_ ])(\d{1,2})(?:\2(\d{2}|\d{4}))?(?!\d)")

# Kinds of part whose value an attacker targeting the officer already has: one of them adds nothing
# to the strength of a password that is otherwise only words.
PERSONAL_NUMBER_KINDS = {"year", "date", "phone", "user_number"}
NUMBER_KINDS = PERSONAL_NUMBER_KINDS | {"number", "sequence", "repeat"}


def gettext_noop(message: str) -> str:
    """Marks a msgid for makemessages (keyword gettext_noop) without reading settings at import.

    Django's own gettext_noop asks settings.USE_I18N, which would make this pure module need a
    configured Django just to be imported.
    """
    return message


class Part(NamedTuple):
    kind: str
    text: str


@dataclass(frozen=True)
class Assessment:
    score: int  # zxcvbn 0-4, fed the Vietnamese lists, the user's data and the recognised numbers
    feedback: list[str]  # translated under the active language, most important first
    guessable_only: bool
    parts: tuple[Part, ...]
    guesses_log10: float  # zxcvbn's estimate (of the first ZXCVBN_MAX_CHARS characters)
    strength_log10: float  # all but the officer's own number: words, dressing, other digits


# Vietnamese: "Mật khẩu chỉ gồm tên riêng/địa danh và ngày tháng hoặc con số dễ đoán. Hãy dùng một
# cụm nhiều từ không liên quan."
GUESSABLE_ONLY_MSGID = gettext_noop(
    "The password is only names, places or common words plus a date or an easy number. "
    "Use a phrase of several unrelated words."
)
GUESSABLE_ONLY_MESSAGE = gettext_lazy(GUESSABLE_ONLY_MSGID)

# Hints shown with GUESSABLE_ONLY_MESSAGE, one per kind of part found.
PLACE_HINT = gettext_noop("Place names are easy to guess.")  # Tên địa danh rất dễ đoán.
USER_HINT = gettext_noop(  # Tên, tên đăng nhập, thư điện tử hay tên đơn vị của bạn rất dễ đoán.
    "Your own name, username, e-mail or unit is easy to guess."
)
GOVERNMENT_HINT = gettext_noop(  # Tên cơ quan và hệ thống nơi bạn làm việc rất dễ đoán.
    "Names of your office and its systems are easy to guess."
)
PHONE_HINT = gettext_noop("Phone numbers are easy to guess.")  # Số điện thoại rất dễ đoán.
ACCENT_HINT = gettext_noop(  # Dấu tiếng Việt không làm mật khẩu khó đoán hơn bao nhiêu.
    "Vietnamese accent marks don't help very much."
)
SYMBOL_HINT = gettext_noop(  # Ký hiệu chèn giữa các phần không làm mật khẩu khó đoán hơn bao nhiêu.
    "Symbols between the parts don't help very much."
)

# Every feedback string of zxcvbn 4.5.0 (zxcvbn/feedback.py), marked here so that its advice,
# which zxcvbn returns in English, is extracted for locale/vi and shown translated.
ZXCVBN_MESSAGES = frozenset(
    (
        gettext_noop("Use a few words, avoid common phrases."),  # Hãy dùng vài từ, tránh các cụm từ thông dụng.
        gettext_noop("No need for symbols, digits, or uppercase letters."),  # Không cần ký hiệu, chữ số hay chữ in hoa.
        gettext_noop(  # Thêm một hai từ nữa. Từ ít gặp thì tốt hơn.
            "Add another word or two. Uncommon words are better."
        ),
        gettext_noop("Straight rows of keys are easy to guess."),  # Các phím liền nhau trên một hàng rất dễ đoán.
        gettext_noop("Short keyboard patterns are easy to guess."),  # Các mẫu phím ngắn rất dễ đoán.
        gettext_noop(  # Hãy dùng mẫu phím dài hơn, đổi hướng nhiều hơn.
            "Use a longer keyboard pattern with more turns."
        ),
        gettext_noop('Repeats like "aaa" are easy to guess.'),  # Lặp lại như "aaa" rất dễ đoán.
        gettext_noop(  # Lặp lại như "abcabcabc" chỉ khó đoán hơn "abc" một chút.
            'Repeats like "abcabcabc" are only slightly harder to guess than "abc".'
        ),
        gettext_noop("Avoid repeated words and characters."),  # Tránh lặp lại từ và ký tự.
        gettext_noop('Sequences like "abc" or "6543" are easy to guess.'),  # Dãy như "abc" hay "6543" rất dễ đoán.
        gettext_noop("Avoid sequences."),  # Tránh các dãy liên tiếp.
        gettext_noop("Recent years are easy to guess."),  # Các năm gần đây rất dễ đoán.
        gettext_noop("Avoid recent years."),  # Tránh dùng các năm gần đây.
        gettext_noop("Avoid years that are associated with you."),  # Tránh các năm gắn với bạn.
        gettext_noop("Dates are often easy to guess."),  # Ngày tháng thường rất dễ đoán.
        gettext_noop("Avoid dates and years that are associated with you."),  # Tránh ngày tháng và năm gắn với bạn.
        gettext_noop("This is a top-10 common password."),  # Đây là một trong 10 mật khẩu phổ biến nhất.
        gettext_noop("This is a top-100 common password."),  # Đây là một trong 100 mật khẩu phổ biến nhất.
        gettext_noop("This is a very common password."),  # Đây là mật khẩu rất phổ biến.
        gettext_noop("This is similar to a commonly used password."),  # Mật khẩu này giống một mật khẩu phổ biến.
        gettext_noop("A word by itself is easy to guess."),  # Một từ đứng riêng rất dễ đoán.
        gettext_noop("Names and surnames by themselves are easy to guess."),  # Tên và họ đứng riêng rất dễ đoán.
        gettext_noop("Common names and surnames are easy to guess."),  # Tên và họ phổ biến rất dễ đoán.
        gettext_noop("Capitalization doesn't help very much."),  # Viết hoa không giúp được bao nhiêu.
        gettext_noop(  # Viết hoa toàn bộ cũng dễ đoán gần như viết thường.
            "All-uppercase is almost as easy to guess as all-lowercase."
        ),
        gettext_noop("Reversed words aren't much harder to guess."),  # Viết ngược một từ không khó đoán hơn bao nhiêu.
        gettext_noop(  # Thay thế dễ đoán như "@" thay cho "a" không giúp được bao nhiêu.
            "Predictable substitutions like '@' instead of 'a' don't help very much."
        ),
    )
)

# Which hint a kind of part earns; the msgids are zxcvbn's where it already has one.
PART_HINTS = {
    "family_name": "Common names and surnames are easy to guess.",
    "middle_name": "Common names and surnames are easy to guess.",
    "given_name": "Common names and surnames are easy to guess.",
    "foreign_name": "Common names and surnames are easy to guess.",
    "place": PLACE_HINT,
    "user_input": USER_HINT,
    "user_number": USER_HINT,
    "government": GOVERNMENT_HINT,
    "phrase": "This is similar to a commonly used password.",
    "common_password": "This is similar to a commonly used password.",
    "year": "Avoid dates and years that are associated with you.",
    "date": "Dates are often easy to guess.",
    "phone": PHONE_HINT,
    "sequence": 'Sequences like "abc" or "6543" are easy to guess.',
    "repeat": 'Repeats like "aaa" are easy to guess.',
    "keyboard": "Straight rows of keys are easy to guess.",
}


def fold(text: str) -> str:
    """Lower-case, accents off, đ as d: the form every list and comparison uses."""
    return _strip_marks(unicodedata.normalize("NFC", text)).lower()


def assess(password: str, user_inputs: Sequence[str] = ()) -> Assessment:
    """Measure a password the way someone guessing Vietnamese passwords would."""
    text = unicodedata.normalize("NFC", password)
    if not text:
        return Assessment(0, [], False, (), 0.0, 0.0)
    unaccented = _strip_marks(text)
    lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in unaccented)
    vocabulary = _user_vocabulary(user_inputs)
    pieces, strength_log10, explained = _read(text, lowered, vocabulary)
    guessable_only = explained and strength_log10 < GUESSABLE_STRENGTH_LOG10

    personal_numbers = [lowered[p.start:p.end] for p in pieces if p.kind in PERSONAL_NUMBER_KINDS]
    zxcvbn_result = _zxcvbn(unaccented, list(vocabulary.words) + personal_numbers)
    messages = []
    if guessable_only:
        messages.append(GUESSABLE_ONLY_MSGID)
        messages.extend(_hints(pieces))
    messages.append(zxcvbn_result["feedback"]["warning"])
    messages.extend(zxcvbn_result["feedback"]["suggestions"])
    return Assessment(
        score=zxcvbn_result["score"],
        feedback=_render(messages),
        guessable_only=guessable_only,
        parts=tuple(Part(p.kind, text[p.start:p.end]) for p in pieces),
        guesses_log10=float(zxcvbn_result["guesses_log10"]),
        strength_log10=strength_log10,
    )


# --- dictionaries -------------------------------------------------------------------------------

def read_wordlist(stem: str) -> list[str]:
    """One shipped list, in rank order; lines starting with '#' say where it came from."""
    path = WORDLIST_DIR / f"{stem}.txt"
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        word = line.strip()
        if word and not word.startswith("#"):
            words.append(fold(word))
    return words


class _Dictionaries(NamedTuple):
    words: dict[str, tuple[int, str]]  # word -> (rank, kind), the best rank over all lists
    zxcvbn: dict[str, dict[str, int]]  # zxcvbn's lists and ours, as four ranked dictionaries


@cache
def _dictionaries() -> _Dictionaries:
    # Built once per process (about 0.2 s); zxcvbn's global dictionaries are left untouched so
    # that plain zxcvbn elsewhere (the benchmark's baseline) stays plain.
    words: dict[str, tuple[int, str]] = {}
    for stem, kind in VIETNAMESE_LISTS.items():
        for rank, word in enumerate(read_wordlist(stem), 1):
            _keep_best(words, word, rank, kind)
    for name, kind in ZXCVBN_LIST_KINDS.items():
        for rank, word in enumerate(FREQUENCY_LISTS[name], 1):
            if word.isalpha() and word.isascii() and len(word) <= MAX_WORD_LENGTH:
                _keep_best(words, word, rank, kind)
    return _Dictionaries(words, _zxcvbn_dictionaries())


def _zxcvbn_dictionaries() -> dict[str, dict[str, int]]:
    """zxcvbn's lists plus ours, merged into as few dictionaries as its feedback allows.

    zxcvbn pays for every dictionary at every substring (and again reversed and per leet
    substitution), so eight dictionaries cost twice what four do. Its scoring keeps the cheapest
    match of each substring, so merging by best rank changes no estimate; only the dictionary name
    matters, for the warning it picks: "passwords" (top-10/100 warnings), "english_wikipedia" (a
    word by itself), "surnames" (names).
    """
    groups = {
        "passwords": [FREQUENCY_LISTS["passwords"]],
        "english_wikipedia": [FREQUENCY_LISTS["english_wikipedia"], FREQUENCY_LISTS["us_tv_and_film"]],
        "surnames": [FREQUENCY_LISTS[name] for name in ("surnames", "male_names", "female_names")]
        + [read_wordlist(stem) for stem in ("family_names", "middle_names", "given_names")],
        "vietnamese": [
            read_wordlist(stem)
            for stem in ("places_dong_nai", "places_vietnam", "password_phrases", "government_words", "common_words")
        ],
    }
    merged = {}
    for name, lists in groups.items():
        ranked: dict[str, int] = {}
        for words in lists:
            for rank, word in enumerate(words, 1):
                if rank < ranked.get(word, rank + 1):
                    ranked[word] = rank
        merged[name] = ranked
    return merged


def _keep_best(words, word, rank, kind):
    known = words.get(word)
    if len(word) >= MIN_WORD_LENGTH and (known is None or rank < known[0]):
        words[word] = (rank, kind)


@cache
def _keyboard_runs() -> frozenset[str]:
    runs = set()
    for walk in KEYBOARD_WALKS:
        for line in (walk, walk[::-1]):
            for length in range(3, 17):
                runs.update(line[i:i + length] for i in range(len(line) - length + 1))
    return frozenset(runs)


class _Vocabulary(NamedTuple):
    words: dict[str, int]  # the user's own words, ranked in the order given
    numbers: frozenset[str]


def _user_vocabulary(user_inputs: Sequence[str]) -> _Vocabulary:
    """The officer's name, username, e-mail and unit as words a guesser would try first.

    "Quách Thị Đượm" gives quach, thi, duom, quachthiduom, the pairs, and the username shapes
    duomqt / qtduom / duomquach, so "Duomquach@1990" is refused although Đượm is in no list.
    """
    words: dict[str, int] = {}
    numbers = set()

    def add(word):
        if len(word) >= MIN_WORD_LENGTH and word not in words:
            words[word] = len(words) + 1

    for value in user_inputs:
        tokens = re.findall(r"[a-z]+|\d+", fold(str(value or "")))
        letters = [t for t in tokens if not t.isdigit()]
        for token in tokens:
            if token.isdigit():
                if len(token) >= 2:
                    numbers.add(token)
            else:
                add(token)
        if len(letters) >= 2:
            add("".join(letters))
            for first, second in zip(letters, letters[1:]):
                add(first + second)
            initials = "".join(t[0] for t in letters[:-1])
            add(letters[-1] + initials)
            add(initials + letters[-1])
            add(letters[-1] + letters[0])
    return _Vocabulary(words, frozenset(numbers))


# --- segmentation -------------------------------------------------------------------------------

class _Piece(NamedTuple):
    start: int
    end: int
    kind: str
    log10: float  # log10 of the guesses this part costs an attacker who knows its kind
    case_log10: float = 0.0  # its capitalisation, when judged alone
    word: str = ""  # the dictionary word it was read as
    dressing: tuple[str, ...] = ()  # "leet", "accent", "separated"
    untargeted_log10: float = 0.0  # for a personal number: its cost to someone who does not know it


def _read(text: str, lowered: str, vocabulary: _Vocabulary) -> tuple[list[_Piece], float, bool]:
    """The reading an attacker would find cheapest: explained first, then fewest guesses."""
    best = None
    for symbols_end_words in (True, False):
        pieces = _segment(text, lowered, vocabulary, symbols_end_words)
        strength, explained = _strength(pieces, text)
        if best is None or (not explained, strength) < (not best[2], best[1]):
            best = (pieces, strength, explained)
        if not any(p.word and lowered[p.end - 1] in LEET_SYMBOLS for p in pieces):
            break  # no word ends in a symbol: the second reading would be the same
    return best


def _segment(text: str, lowered: str, vocabulary: _Vocabulary, symbols_end_words: bool) -> list[_Piece]:
    """Cheapest explanation of the whole password as words, numbers, runs and symbols (DP)."""
    n = len(lowered)
    best = [math.inf] * (n + 1)
    chosen: list[_Piece | None] = [None] * (n + 1)
    best[0] = 0.0
    for start in range(n):
        if best[start] == math.inf:
            continue
        for piece in _candidates(start, text, lowered, vocabulary, symbols_end_words):
            total = best[start] + piece.log10 + piece.case_log10 + PART_PENALTY_LOG10
            if piece.kind == "unknown":
                total += UNKNOWN_LETTER_PENALTY_LOG10
            if total < best[piece.end]:
                best[piece.end] = total
                chosen[piece.end] = piece
    pieces = []
    end = n
    while end > 0:
        piece = chosen[end]
        pieces.append(piece)
        end = piece.start
    pieces.reverse()
    return pieces


def _candidates(start, text, lowered, vocabulary, symbols_end_words):
    char = lowered[start]
    yield _single_character(start, text, lowered)
    if char.isdigit() or char == "+":
        yield from _numbers(start, lowered, vocabulary.numbers)
    if char.isascii() and (char.isalpha() or char in LEET_LETTERS):
        yield from _words(start, text, lowered, vocabulary.words, symbols_end_words)
    yield from _runs(start, lowered)


def _single_character(start, text, lowered):
    char = lowered[start]
    if char.isdigit():
        return _Piece(start, start + 1, "number", 1.0)
    if "a" <= char <= "z":
        return _Piece(start, start + 1, "unknown", math.log10(52 if text[start].isupper() else 26))
    if char.isascii() and char.isprintable():
        return _Piece(start, start + 1, "symbol", 1.0 if char in COMMON_SYMBOLS else math.log10(33))
    return _Piece(start, start + 1, "other_character", 2.0)


def _words(start, text, lowered, user_words, symbols_end_words):
    index = _dictionaries().words
    variants = None  # stays None while the token is plain letters: then its slice is its only reading
    letters = separators = 0
    # Separators join whole syllables only: they start a word where a syllable starts...
    may_separate = start == 0 or not lowered[start - 1].isalpha() or text[start].isupper()
    for end in range(start + 1, min(len(lowered), start + MAX_WORD_LENGTH) + 1):
        char = lowered[end - 1]
        if "a" <= char <= "z":
            letters += 1
            if variants is not None:
                variants = [v + char for v in variants]
        elif (
            char in SYLLABLE_SEPARATORS and may_separate and letters
            and end < len(lowered) and "a" <= lowered[end] <= "z"
        ):
            separators += 1  # only between letters: "Mat-48" is not "mata"
            variants = [lowered[start:end - 1]] if variants is None else variants
            continue  # a word never ends on a separator
        elif char in LEET_LETTERS:
            readings = [lowered[start:end - 1]] if variants is None else variants
            variants = [v + letter for v in readings for letter in LEET_LETTERS[char]]
            if len(variants) > MAX_LEET_VARIANTS:
                return
        else:
            return
        length = end - start - separators
        # A word needs real letters ("H4" may be "ha"), so "1990" stays a year and never "iggo".
        if length < MIN_WORD_LENGTH or letters * 2 < length:
            continue
        if char in LEET_SYMBOLS and not symbols_end_words:
            continue
        if separators and end < len(lowered) and lowered[end].isalpha() and not text[end].isupper():
            continue  # ... and end with one: "Han-Hanh" is not "hanh" + "anh"
        for variant in variants if variants is not None else (lowered[start:end],):
            own = user_words.get(variant)
            listed = index.get(variant)
            if own is not None and (listed is None or own <= listed[0]):
                rank, kind = own, "user_input"
            elif listed is not None:
                rank, kind = listed
            else:
                continue
            yield _word_piece(start, end, kind, rank, variant, text, lowered, length - letters, separators)


def _word_piece(start, end, kind, rank, word, text, lowered, substitutions, separators):
    token = text[start:end]
    cost = math.log10(rank) + substitutions * math.log10(2) + bool(separators) * math.log10(len(SYLLABLE_SEPARATORS))
    dressing = (
        ("leet",) * bool(substitutions)
        + ("accent",) * (token.lower() != lowered[start:end])
        + ("separated",) * bool(separators)
    )
    return _Piece(start, end, kind, cost, math.log10(_case_variations(token)), word, dressing)


def _case_variations(token: str) -> int:
    """zxcvbn's count of capitalisations an attacker tries for this token's pattern."""
    upper = sum(1 for c in token if c.isupper())
    lower = sum(1 for c in token if c.islower())
    if upper == 0:
        return 1
    if lower == 0 or (upper == 1 and (token[0].isupper() or token[-1].isupper())):
        return 2
    return sum(math.comb(upper + lower, i) for i in range(1, min(upper, lower) + 1))


def _numbers(start, lowered, user_numbers):
    n = len(lowered)
    if lowered.startswith("+84", start):
        national = lowered[start + 3:start + 12]
        if len(national) == 9 and national.isdigit() and national[0] in "35789":
            yield _personal(start, start + 12, "phone", "phone")
        return
    match = DATE_WITH_SEPARATORS.match(lowered, start)
    if match:
        if _is_separated_date(match):
            yield _personal(start, match.end(), "date", "day_month" if match.group(4) is None else "date")
    end = start
    while end < n and end - start < 12 and lowered[end].isdigit():
        end += 1
        yield _classify_digits(start, end, lowered[start:end], user_numbers)


def _personal(start, end, kind, space):
    # Never dearer than guessing its characters one digit at a time ("4651" read as 4/6/51).
    log10 = min(math.log10(UNTARGETED_GUESSES[space]), float(end - start))
    return _Piece(start, end, kind, PERSONAL_NUMBER_LOG10, untargeted_log10=log10)


def _classify_digits(start: int, end: int, digits: str, user_numbers: frozenset[str]) -> _Piece:
    n = len(digits)
    if digits in user_numbers:
        return _Piece(start, end, "user_number", PERSONAL_NUMBER_LOG10, untargeted_log10=float(n))
    if n == 4 and int(digits) in YEAR_RANGE:
        return _personal(start, end, "year", "year")
    if n >= 3 and any(digits in run for run in DIGIT_RUNS):
        # zxcvbn's count: an obvious start (0, 1, 9) or any digit, times the length, times direction.
        starts = 4 if digits[0] in "019" else 10
        return _Piece(start, end, "sequence", math.log10(starts * n * (1 if digits[1] > digits[0] else 2)))
    period = _period(digits)
    if n >= 3 and period == 1:  # "2222" is a repeat before it is 2/2/22
        return _Piece(start, end, "repeat", math.log10(10 * n))
    if _is_date(digits):
        return _personal(start, end, "date", "day_month" if n <= 4 and not _is_date_with_year(digits) else "date")
    if _is_phone(digits):
        return _personal(start, end, "phone", "phone")
    if n >= 3 and period < n:
        return _Piece(start, end, "repeat", period + math.log10(n / period))
    return _Piece(start, end, "number", float(n))


def _period(digits):
    for size in range(1, len(digits) // 2 + 1):
        if len(digits) % size == 0 and digits[:size] * (len(digits) // size) == digits:
            return size
    return len(digits)


def _is_phone(digits):
    # Vietnamese mobiles 0[35789]x xxx xxxx, the same after 84, landlines 02xx xxx xxxx.
    n = len(digits)
    return (
        (n == 10 and digits[0] == "0" and digits[1] in "35789")
        or (n == 11 and digits.startswith("84") and digits[2] in "35789")
        or (n == 11 and digits.startswith("02"))
    )


def _is_date(digits: str) -> bool:
    """A date written without separators: ddmmyyyy, yyyymmdd, ddmmyy, yymmdd, dmyy, ddmm..."""
    return _is_date_with_year(digits) or (3 <= len(digits) <= 4 and _is_day_month(digits))


def _is_date_with_year(digits: str) -> bool:
    n = len(digits)
    if n >= 6:
        for year, rest in ((digits[-4:], digits[:-4]), (digits[:4], digits[4:])):
            if int(year) in YEAR_RANGE and _is_day_month(rest):
                return True
    return 4 <= n <= 6 and (_is_day_month(digits[:-2]) or _is_day_month(digits[2:]))


def _is_day_month(digits: str) -> bool:
    if not 2 <= len(digits) <= 4:
        return False
    for cut in range(1, len(digits)):
        first, second = digits[:cut], digits[cut:]
        if len(first) > 2 or len(second) > 2:
            continue
        a, b = int(first), int(second)
        if (1 <= a <= 31 and 1 <= b <= 12) or (1 <= a <= 12 and 1 <= b <= 31):
            return True
    return False


def _is_separated_date(match) -> bool:
    """dd/mm/yyyy, dd-mm-yy, yyyy.mm.dd, dd/mm ..."""
    first, _, second, third = match.groups()
    if third is None:
        return len(first) <= 2 and _is_day_month(first + second)
    for year, day_month in ((third, first + second), (first, second + third)):
        if len(year) == 4 and int(year) in YEAR_RANGE and _is_day_month(day_month):
            return True
        if len(year) == 2 and len(day_month) <= 4 and _is_day_month(day_month):
            return True
    return False


def _runs(start, lowered):
    n = len(lowered)
    keyboard = _keyboard_runs()
    for end in range(start + 3, min(n, start + 16) + 1):
        if lowered[start:end] in keyboard:
            yield _Piece(start, end, "keyboard", math.log10(100 * (end - start)))
    end = start + 1
    while end < n and lowered[end] == lowered[start]:
        end += 1
    # Only the whole run: shorter ones start later in it anyway, and "a" * 128 stays linear.
    if end - start >= 3:
        yield _Piece(start, end, "repeat", math.log10(95 * (end - start)))


# --- judgement ----------------------------------------------------------------------------------

def _strength(pieces: list[_Piece], text: str) -> tuple[float, bool]:
    """log10 guesses of the words and dressing, and whether every part was recognised."""
    strength = _case_log10(pieces, text)
    if any("accent" in piece.dressing for piece in pieces):
        strength += math.log10(2)  # typing the words with their accents is one more rule to try
    unknown_letters = 0
    explained = True
    seen = set()
    # The attacker knows one of the officer's numbers, written on its own ("Lan@15081990", not a
    # slice of "8392017465"); the others cost what they cost anybody, so random digits cannot pass
    # as a string of "dates".
    personal = [p for p in pieces if p.kind in PERSONAL_NUMBER_KINDS]
    whole = [p for i, p in enumerate(pieces) if p.kind in PERSONAL_NUMBER_KINDS and _stands_alone(i, pieces)]
    free = max(whole, key=lambda p: p.untargeted_log10, default=None)
    for piece in personal:
        if piece is not free:
            strength += piece.untargeted_log10
    for piece in pieces:
        if piece.kind in PERSONAL_NUMBER_KINDS:
            continue
        if piece.kind == "symbol":
            # "a-b-c-d": one choice of separator, not four.
            symbol = text[piece.start:piece.end]
            if symbol in seen:
                continue
            seen.add(symbol)
        elif piece.word:
            # "Que@Que", "KhiemKhi3m": doubling a word is one more rule to try, not a new word.
            if piece.word in seen:
                strength += math.log10(2)
                continue
            seen.add(piece.word)
        elif piece.kind == "unknown":
            unknown_letters += 1
        elif piece.kind == "other_character":  # an emoji, a Chinese character: nothing says guessable
            explained = False
        strength += piece.log10
    return strength, explained and unknown_letters <= UNKNOWN_LETTER_BUDGET


def _stands_alone(index: int, pieces: list[_Piece]) -> bool:
    """No other number right before or after it (a leet "1" read as a letter does not count)."""
    neighbours = pieces[max(index - 1, 0):index] + pieces[index + 1:index + 2]
    return not any(p.kind in NUMBER_KINDS for p in neighbours)


def _case_log10(pieces: list[_Piece], text: str) -> float:
    """Capitalisation of the words as one rule over the whole password, as guessers apply it.

    "Hoanghieu", "HoangHieu" and "HOANGHIEU" are one rule each ("capitalise the first word",
    "every word or syllable", "all"); other patterns cost zxcvbn's count for each word.
    """
    words = [text[p.start:p.end] for p in pieces if p.word]
    shapes = []
    for word in words:
        letters = [c for c in word if c.isalpha()]
        if not any(c.isupper() for c in letters):
            shapes.append("lower")
        elif all(c.isupper() for c in letters):
            shapes.append("upper")
        elif letters[0].isupper() and not any(a.isupper() and b.isupper() for a, b in zip(letters, letters[1:])):
            shapes.append("title")  # "Xuanloc", and "QuangNgai" with each syllable capitalised
        else:
            shapes.append("mixed")
    if not shapes or all(shape == "lower" for shape in shapes):
        return 0.0
    if "mixed" not in shapes:
        if len(set(shapes)) == 1 or shapes[1:] == ["lower"] * (len(shapes) - 1):
            return math.log10(3)
        raised = sum(1 for shape in shapes if shape != "lower")
        return math.log10(3) + math.log10(math.comb(len(shapes), raised))
    return sum(p.case_log10 for p in pieces if p.word)


def _zxcvbn(unaccented: str, user_words: list[str]) -> dict:
    sample = unaccented[:ZXCVBN_MAX_CHARS]
    dictionaries = dict(_dictionaries().zxcvbn)
    dictionaries["user_inputs"] = matching.build_ranked_dict(user_words)
    matches = matching.omnimatch(sample, dictionaries)
    result = scoring.most_guessable_match_sequence(sample, matches)
    score = time_estimates.guesses_to_score(result["guesses"])
    result["score"] = score
    result["feedback"] = zxcvbn_feedback.get_feedback(score, result["sequence"])
    return result


def _hints(pieces):
    hints = []
    for piece in pieces:
        hint = PART_HINTS.get(piece.kind)
        if hint:
            hints.append(hint)
        if "leet" in piece.dressing:
            hints.append("Predictable substitutions like '@' instead of 'a' don't help very much.")
        if "accent" in piece.dressing:
            hints.append(ACCENT_HINT)
    if any(p.kind == "symbol" or "separated" in p.dressing for p in pieces):
        hints.append(SYMBOL_HINT)
    return hints


def _render(messages: list[str]) -> list[str]:
    """Unique, non-empty msgids in the active language.

    Without a configured Django (a script, the tests run with -p no:django) the English msgids are
    returned: the translation machinery cannot start before the app registry is ready.
    """
    translate = settings.configured and apps.ready
    rendered = []
    for message in messages:
        if not message:
            continue
        text = gettext(message) if translate else message
        if text not in rendered:
            rendered.append(text)
    return rendered


def _strip_marks(text: str) -> str:
    """Accents off, đ/Đ as d/D, case kept, one character out for each character in."""
    out = []
    for char in text:
        if char in "đĐ":
            out.append("D" if char == "Đ" else "d")
            continue
        base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
        out.append(base[:1] or char)
    return "".join(out)
