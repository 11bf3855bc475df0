"""Text to normalised tokens and their stems, shared by topics, entries and search."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable

import Stemmer

__all__ = ["stem", "stems", "tokenize"]

# Every shape of apostrophe a feed or a phone keyboard produces. The acute accent must become an
# apostrophe before NFKD, which would otherwise turn it into a space and a combining accent.
_APOSTROPHES = ("’", "‘", "ʼ", "´", "`")

# The non-ASCII characters that English feeds use most (typographic quotes and dashes, spaces,
# pound and euro signs). Each separates words exactly as it would on the slow path, so mapping
# them to ASCII first lets most English entries take the fast path.
_COMMON_PUNCTUATION = (
    "“",
    "”",
    "—",
    "–",
    "‐",
    "‑",
    "−",
    "…",
    "•",
    "£",
    "€",
    "\u00a0",
    "\u2009",
    "\u202f",
)

# Invisible characters that sit inside words in feed text (soft hyphens from CMS hyphenation,
# zero-width joiners in Persian); removing them keeps the word whole.
_INVISIBLE = ("\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")

# Latin letters that carry a diacritic but have no Unicode decomposition, so NFKD leaves them.
_UNDECOMPOSABLE = (("ø", "o"), ("ł", "l"), ("đ", "d"), ("ħ", "h"), ("ı", "i"))

_COMBINING_DIACRITICS = re.compile("[\u0300-\u036f]+")
# Starting with the literal apostrophe lets the regex engine skip ahead to each one.
_POSSESSIVE_OR_APOSTROPHE = re.compile(r"'(?:s\b)?")
_ASCII_POSSESSIVE_OR_APOSTROPHE = re.compile(r"'(?:[sS]\b)?")

# Lowercases ASCII letters and turns everything but letters and digits into a space.
_ASCII_WORDS = str.maketrans(
    {code: (chr(code).lower() if chr(code).isalnum() else " ") for code in range(128)}
)


def _combining_marks() -> str:
    # Python's \w leaves out combining marks, which would cut Indic words apart at every vowel
    # sign; the basic plane holds every mark a news feed plausibly carries.
    ranges: list[str] = []
    start = previous = -2
    for code in range(0x300, 0x10000):
        if not unicodedata.category(chr(code)).startswith("M"):
            continue
        if code != previous + 1:
            if start >= 0:
                ranges.append(f"{chr(start)}-{chr(previous)}")
            start = code
        previous = code
    ranges.append(f"{chr(start)}-{chr(previous)}")
    return "".join(ranges)


_WORD = re.compile(rf"[\w{_combining_marks()}]+")

_STEMMER = Stemmer.Stemmer("english", 0)  # our own cache below replaces PyStemmer's
_STEMMER_LOCK = threading.Lock()  # PyStemmer instances keep state and must not be shared
_STEM_CACHE_SIZE = 50_000

# Endings that inflect a word (plural, past, participle, -ing noun) and the derivational tails
# they may close; the longest is tried first.
_INFLECTIONS = ("ings", "ing", "ies", "ied", "ed", "es", "d", "s", "y", "e")
_DOUBLED_BEFORE = ("ings", "ing", "ed")  # stopped, controlling: the consonant was doubled
_DERIVATION_MARK = "~"


def tokenize(text: str) -> list[str]:
    """The words of ``text``, casefolded, without diacritics, possessives or apostrophes.

    Hyphens, dashes, apostrophes and every other non-word character separate words (as in
    SQLite's unicode61 tokenizer, so search and topics agree); a possessive ``'s`` goes;
    digits are words.
    """
    if not text.isascii():
        for mark in _COMMON_PUNCTUATION:
            text = text.replace(mark, " ")
        text = text.replace("’", "'").replace("‘", "'")
        if not text.isascii():
            return _tokenize_unicode(text)
    if "`" in text:
        text = text.replace("`", "'")
    if "'" in text:
        text = _ASCII_POSSESSIVE_OR_APOSTROPHE.sub(_drop_possessive, text)
    return text.translate(_ASCII_WORDS).split()


def _tokenize_unicode(text: str) -> list[str]:
    for apostrophe in _APOSTROPHES:
        text = text.replace(apostrophe, "'")
    for invisible in _INVISIBLE:
        text = text.replace(invisible, "")
    text = unicodedata.normalize("NFKD", text)
    text = _COMBINING_DIACRITICS.sub(_drop_if_on_latin_letter, text)
    folded = unicodedata.normalize("NFC", text).casefold()
    for letter, base in _UNDECOMPOSABLE:
        folded = folded.replace(letter, base)
    if "'" in folded:
        folded = _POSSESSIVE_OR_APOSTROPHE.sub(_drop_possessive, folded)
    return _WORD.findall(folded.replace("_", " "))


def _drop_possessive(apostrophe: re.Match[str]) -> str:
    # "Russia's" is Russia; the apostrophe in "O'Brien" separates, as FTS5's tokenizer does.
    return " " if apostrophe.group() == "'" else ""


def _drop_if_on_latin_letter(marks: re.Match[str]) -> str:
    # Only marks on Latin letters are diacritics to drop (as FTS5's remove_diacritics does);
    # marks in other scripts (Cyrillic й, Greek tonos) are part of the letter and stay.
    start = marks.start()
    before = marks.string[start - 1 : start]
    return "" if before.isascii() and before.isalpha() else marks.group()


class _StemCache(dict[str, str]):
    """Token → stem, computed on first use; lookups of known tokens stay in C."""

    def __missing__(self, token: str) -> str:
        if len(self) >= _STEM_CACHE_SIZE:  # news brings new names every day: stay bounded
            self.clear()
        result = self[token] = _stem_uncached(token)
        return result


_STEM_CACHE = _StemCache()


def stem(token: str) -> str:
    """The form of ``token`` that its English inflections share (``sanctioned`` → ``sanction``).

    Snowball English also strips derivational suffixes (``Islamic`` → ``islam``, ``national`` →
    ``nation``); those would let a name match its adjective, so a derived word keeps its own
    stem, marked so that it never equals a plain one (``islam~ic``).
    """
    return _STEM_CACHE[token]


def stems(tokens: Iterable[str]) -> list[str]:
    """``stem`` of each token, in order."""
    return list(map(_STEM_CACHE.__getitem__, tokens))


def _stem_uncached(token: str) -> str:
    # Snowball's English rules only rewrite ASCII letters; other scripts pass through unchanged,
    # and a lone surrogate could not be handed to the C library at all.
    if not token.isascii():
        return token
    with _STEMMER_LOCK:
        snowball: str = _STEMMER.stemWord(token)
    tail = _removed_tail(token, snowball)
    if tail is None:
        return snowball
    for ending in _INFLECTIONS:
        if tail.endswith(ending) and not (ending == "s" and tail.endswith(("ss", "us", "is"))):
            derivation = tail[: -len(ending)]
            if ending in _DOUBLED_BEFORE and derivation == snowball[-1:]:
                derivation = ""
            break
    else:
        derivation = tail
    if not derivation:
        return snowball
    return f"{snowball}{_DERIVATION_MARK}{derivation}"


def _removed_tail(token: str, snowball: str) -> str | None:
    """What Snowball cut off ``token``, or None when its stem is no plain prefix of it."""
    if token.startswith(snowball):
        return token[len(snowball) :]
    # Snowball turns a final y into i (country → countri) before cutting further.
    head = snowball[:-1]
    if (
        snowball.endswith("i")
        and token.startswith(head)
        and token[len(head) : len(head) + 1] == "y"
    ):
        return token[len(snowball) :]
    return None
