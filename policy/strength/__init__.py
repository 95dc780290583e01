"""Vietnamese-aware password strength (issue #4).

Officers here build passwords from a name, a place or a phrase plus a date and one symbol
(``Xuanloc@2024``, ``Hoanghieu@1974``, ``Ubnd1997@``). Such passwords meet the letter's composition
rule, and zxcvbn accepts almost all of them: its dictionaries are English, so it reads ``hieu@`` as
random characters. This package sees through the usual dressing (case, accents, leetspeak, symbols
between the parts), splits what is left into Vietnamese words and recognisable numbers, and

* feeds zxcvbn the Vietnamese word lists, the officer's own data and the recognised numbers, so its
  score counts them as guessable (``Assessment.score``);
* decides whether the password is *only* such parts (``Assessment.guessable_only``).

Pure Python on purpose (no models): the validators, account imports and ``bench/`` share it.

The modules, in the order a password goes through them:

* ``dictionaries`` -- the word lists (policy/wordlists/, zxcvbn's own) and the officer's own words;
* ``segmentation`` -- the dressing removal and the cheapest reading of the password as parts;
* ``numbers`` -- years, dates, phone numbers, runs and repeats among the digits;
* ``estimate`` -- the guesses a reading costs, and zxcvbn's score;
* ``messages`` -- the msgids shown to the officer, translated for locale/vi.

``pieces`` holds the one type they pass between them: a part of the password and its cost.

This file is the public API: everything the rest of the portal, the tests and ``bench/`` import
from ``policy.strength`` is defined or re-exported here.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import NamedTuple, Sequence

from .dictionaries import (
    VIETNAMESE_LISTS,
    WORDLIST_DIR,
    ZXCVBN_LIST_KINDS,
    fold,
    read_wordlist,
    strip_marks,
    user_vocabulary,
)
from .estimate import GUESSABLE_STRENGTH_LOG10, zxcvbn_estimate
from .messages import (
    ACCENT_HINT,
    GOVERNMENT_HINT,
    GUESSABLE_ONLY_MESSAGE,
    GUESSABLE_ONLY_MSGID,
    PART_HINTS,
    PHONE_HINT,
    PLACE_HINT,
    SYMBOL_HINT,
    USER_HINT,
    ZXCVBN_MESSAGES,
    hints_for,
    render_feedback,
)
from .pieces import PERSONAL_NUMBER_KINDS
from .segmentation import cheapest_reading

__all__ = [
    "ACCENT_HINT",
    "GOVERNMENT_HINT",
    "GUESSABLE_ONLY_MESSAGE",
    "GUESSABLE_ONLY_MSGID",
    "GUESSABLE_STRENGTH_LOG10",
    "PART_HINTS",
    "PHONE_HINT",
    "PLACE_HINT",
    "SYMBOL_HINT",
    "USER_HINT",
    "VIETNAMESE_LISTS",
    "WORDLIST_DIR",
    "ZXCVBN_LIST_KINDS",
    "ZXCVBN_MESSAGES",
    "Assessment",
    "Part",
    "assess",
    "fold",
    "read_wordlist",
]


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


def assess(password: str, user_inputs: Sequence[str] = ()) -> Assessment:
    """Measure a password the way someone guessing Vietnamese passwords would."""
    text = unicodedata.normalize("NFC", password)
    if not text:
        return Assessment(0, [], False, (), 0.0, 0.0)
    unaccented = strip_marks(text)
    lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in unaccented)
    vocabulary = user_vocabulary(user_inputs)
    pieces, strength_log10, explained = cheapest_reading(text, lowered, vocabulary)
    guessable_only = explained and strength_log10 < GUESSABLE_STRENGTH_LOG10

    personal_numbers = [lowered[p.start:p.end] for p in pieces if p.kind in PERSONAL_NUMBER_KINDS]
    zxcvbn_result = zxcvbn_estimate(unaccented, list(vocabulary.words) + personal_numbers)
    messages = []
    if guessable_only:
        messages.append(GUESSABLE_ONLY_MSGID)
        messages.extend(hints_for(pieces))
    messages.append(zxcvbn_result["feedback"]["warning"])
    messages.extend(zxcvbn_result["feedback"]["suggestions"])
    return Assessment(
        score=zxcvbn_result["score"],
        feedback=render_feedback(messages),
        guessable_only=guessable_only,
        parts=tuple(Part(p.kind, text[p.start:p.end]) for p in pieces),
        guesses_log10=float(zxcvbn_result["guesses_log10"]),
        strength_log10=strength_log10,
    )
