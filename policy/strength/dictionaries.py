"""The words a guesser tries: the shipped Vietnamese lists, zxcvbn's lists and the officer's own data.

Everything is compared in folded form (``fold``): lower-case, accents off, đ as d.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import NamedTuple, Sequence

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from portal.text import fold, strip_marks  # noqa: F401  (re-exported for the strength package)

# The lists stay beside the package, in policy/wordlists/.
WORDLIST_DIR = Path(__file__).resolve().parent.parent / "wordlists"

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

MAX_WORD_LENGTH = 24
MIN_WORD_LENGTH = 2




def read_wordlist(stem: str) -> list[str]:
    """One shipped list, in rank order; lines starting with '#' say where it came from."""
    path = WORDLIST_DIR / f"{stem}.txt"
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        word = line.strip()
        if word and not word.startswith("#"):
            words.append(fold(word))
    return words


class Dictionaries(NamedTuple):
    words: dict[str, tuple[int, str]]  # word -> (rank, kind), the best rank over all lists
    zxcvbn: dict[str, dict[str, int]]  # zxcvbn's lists and ours, as four ranked dictionaries


@cache
def load_dictionaries() -> Dictionaries:
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
    return Dictionaries(words, _zxcvbn_dictionaries())


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


class Vocabulary(NamedTuple):
    words: dict[str, int]  # the user's own words, ranked in the order given
    numbers: frozenset[str]


def user_vocabulary(user_inputs: Sequence[str]) -> Vocabulary:
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
    return Vocabulary(words, frozenset(numbers))
