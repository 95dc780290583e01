"""One part of a password as the segmentation reads it, and the kinds the estimate treats alike."""

from __future__ import annotations

from typing import NamedTuple

# Kinds of part whose value an attacker targeting the officer already has: one of them adds nothing
# to the strength of a password that is otherwise only words.
PERSONAL_NUMBER_KINDS = {"year", "date", "phone", "user_number"}
NUMBER_KINDS = PERSONAL_NUMBER_KINDS | {"number", "sequence", "repeat"}


class Piece(NamedTuple):
    start: int
    end: int
    kind: str
    log10: float  # log10 of the guesses this part costs an attacker who knows its kind
    case_log10: float = 0.0  # its capitalisation, when judged alone
    word: str = ""  # the dictionary word it was read as
    dressing: tuple[str, ...] = ()  # "leet", "accent", "separated"
    untargeted_log10: float = 0.0  # for a personal number: its cost to someone who does not know it
