"""How many guesses a reading of the password costs, and zxcvbn's own estimate of it."""

from __future__ import annotations

import math

from zxcvbn import feedback as zxcvbn_feedback
from zxcvbn import matching, scoring, time_estimates

from .dictionaries import load_dictionaries
from .pieces import NUMBER_KINDS, PERSONAL_NUMBER_KINDS, Piece

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
# segmentation (segmentation.py) still reads the whole password.
ZXCVBN_MAX_CHARS = 32


def reading_strength(pieces: list[Piece], text: str) -> tuple[float, bool]:
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


def _stands_alone(index: int, pieces: list[Piece]) -> bool:
    """No other number right before or after it (a leet "1" read as a letter does not count)."""
    neighbours = pieces[max(index - 1, 0):index] + pieces[index + 1:index + 2]
    return not any(p.kind in NUMBER_KINDS for p in neighbours)


def _case_log10(pieces: list[Piece], text: str) -> float:
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


def zxcvbn_estimate(unaccented: str, user_words: list[str]) -> dict:
    sample = unaccented[:ZXCVBN_MAX_CHARS]
    dictionaries = dict(load_dictionaries().zxcvbn)
    dictionaries["user_inputs"] = matching.build_ranked_dict(user_words)
    matches = matching.omnimatch(sample, dictionaries)
    result = scoring.most_guessable_match_sequence(sample, matches)
    score = time_estimates.guesses_to_score(result["guesses"])
    result["score"] = score
    result["feedback"] = zxcvbn_feedback.get_feedback(score, result["sequence"])
    return result
