"""Text to normalised tokens and their stems, shared by topics, entries, search and snippets."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

import Stemmer

__all__ = [
    "DEFAULT_STEMMING",
    "Analysed",
    "Stemming",
    "analyse",
    "entry_stemming",
    "query_stemmings",
    "stem",
    "stems",
    "tokenize",
]

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

# Latin letters that carry a diacritic but have no Unicode decomposition, so NFKD leaves them,
# and ligatures people type as two letters (cœur, Cæsar).
_UNDECOMPOSABLE = (
    ("ø", "o"),
    ("ł", "l"),
    ("đ", "d"),
    ("ħ", "h"),
    ("ı", "i"),
    ("œ", "oe"),
    ("æ", "ae"),
)


def _code_ranges(*ranges: tuple[int, int]) -> str:
    return "".join(f"{chr(start)}-{chr(end)}" for start, end in ranges)


# Arabic harakat, shadda, sukun, Quranic annotation marks and the tatweel that stretches a
# word, and Hebrew niqqud and cantillation: people type without them, so they go everywhere.
# The hamza and madda marks (U+0653-U+0655) are left for NFC to put back on their letters:
# ؤ and ئ are letters of their own, while أ إ آ fold to alef below.
_ARABIC_HEBREW_MARKS = dict.fromkeys(
    [
        *range(0x0610, 0x061B),
        *range(0x064B, 0x0653),
        *range(0x0656, 0x0660),
        0x0670,
        0x0640,
        *range(0x06D6, 0x06DD),
        *range(0x06DF, 0x06E5),
        0x06E7,
        0x06E8,
        *range(0x06EA, 0x06EE),
        *range(0x0591, 0x05BE),
        0x05BF,
        0x05C1,
        0x05C2,
        0x05C4,
        0x05C5,
        0x05C7,
    ]
)
# Letters written two ways for one sound or one letter: alef with hamza or madda, alef wasla,
# alef maksura and ta marbuta as Arabic search folds them, Persian yeh and kaf as their
# Arabic twins.
_ARABIC_LETTERS = str.maketrans(
    {
        "\u0622": "\u0627",
        "\u0623": "\u0627",
        "\u0625": "\u0627",
        "\u0671": "\u0627",
        "\u0649": "\u064a",
        "\u0629": "\u0647",
        "\u06cc": "\u064a",
        "\u06a9": "\u0643",
    }
)

# What NFC could not put onto an alef (a second hamza or madda) goes with the first.
_MARKS_ON_ALEF = re.compile("\u0627[\u0653-\u0655]+")

_COMBINING_DIACRITICS = re.compile("[\u0300-\u036f]+")
# Starting with the literal apostrophe lets the regex engine skip ahead to each one.
_POSSESSIVE_OR_APOSTROPHE = re.compile(r"'(?:s\b)?")
_ASCII_POSSESSIVE_OR_APOSTROPHE = re.compile(r"'(?:[sS]\b)?")

# Lowercases ASCII letters and turns everything but letters and digits into a space.
_ASCII_WORDS = str.maketrans(
    {code: (chr(code).lower() if chr(code).isalnum() else " ") for code in range(128)}
)

# Han (with its extensions and compatibility forms), kana and Hangul: scripts written without
# spaces between words (Korean puts them between phrases), split into character bigrams.
_CJK = _code_ranges(
    (0x1100, 0x11FF),
    (0x3005, 0x3007),
    (0x3040, 0x30FF),
    (0x3130, 0x318F),
    (0x31F0, 0x31FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xA960, 0xA97F),
    (0xAC00, 0xD7FF),
    (0xF900, 0xFAFF),
    (0x20000, 0x3134F),
)
_HAS_CJK = re.compile(f"[{_CJK}]")
_CJK_OR_OTHER = re.compile(f"([{_CJK}]+)|[^{_CJK}]+")


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


def tokenize(text: str) -> list[str]:
    """The words of ``text``, casefolded, without marks, possessives or apostrophes.

    Hyphens, dashes, apostrophes and every other non-word character separate words; a
    possessive ``'s`` goes; digits are words. Chinese, Japanese and Korean runs become their
    overlapping character bigrams (a lone character stays one token), as in Lucene's CJK
    analyzer, so a word is found inside a sentence written without spaces.
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
    text = _COMBINING_DIACRITICS.sub(_drop_marks, text.translate(_ARABIC_HEBREW_MARKS))
    # Folded before NFC too, so that a Persian yeh with hamza composes as the Arabic one does;
    # and after it, for the alef NFC has composed with its hamza.
    text = unicodedata.normalize("NFC", text.translate(_ARABIC_LETTERS))
    folded = text.casefold().translate(_ARABIC_LETTERS)
    if "\u0627" in folded:
        folded = _MARKS_ON_ALEF.sub("\u0627", folded)
    for letter, base in _UNDECOMPOSABLE:
        folded = folded.replace(letter, base)
    if "'" in folded:
        folded = _POSSESSIVE_OR_APOSTROPHE.sub(_drop_possessive, folded)
    words = _WORD.findall(folded.replace("_", " "))
    if _HAS_CJK.search(folded) is None:
        return words
    return [token for word in words for token in _split_cjk(word)]


def _split_cjk(word: str) -> list[str]:
    if _HAS_CJK.search(word) is None:
        return [word]
    tokens: list[str] = []
    for piece in _CJK_OR_OTHER.finditer(word):
        run = piece[1]
        if run is None:
            tokens.append(piece.group())
        elif len(run) == 1:
            tokens.append(run)
        else:
            tokens.extend(map(str.__add__, run, run[1:]))
    return tokens


def _drop_possessive(apostrophe: re.Match[str]) -> str:
    # "Russia's" is Russia; the apostrophe in "O'Brien" separates, as FTS5's tokenizer does.
    return " " if apostrophe.group() == "'" else ""


def _drop_marks(marks: re.Match[str]) -> str:
    # Accents on Latin and Greek letters are diacritics people leave out (Zelénsky, Σύνοδος);
    # on Cyrillic only the stress accents and the diaeresis of ё are, while й, ў and ї are
    # letters of their own; marks in every other script stay part of their letter.
    start = marks.start()
    # Marks of other blocks may sit between (canonical order sorts marks by class).
    while start > 0 and unicodedata.combining(marks.string[start - 1]):
        start -= 1
    base = marks.string[start - 1 : start]
    if not base:
        return marks.group()
    code = ord(base)
    if code < 0x250 or 0x1E00 <= code < 0x1F00:  # Latin, with ß, ı, ø and their kin
        return "" if base.isalpha() else marks.group()
    if 0x370 <= code <= 0x3FF:
        return ""
    if 0x400 <= code <= 0x4FF:
        kept = marks.group().replace("\u0301", "").replace("\u0300", "")
        return kept.replace("\u0308", "") if base in "еЕ" else kept
    return marks.group()


# Which Snowball stemmer each script's words take: the first unless the entry's language picks
# another. Scripts not named (Hebrew, CJK, Thai, ...) are not stemmed.
_SCRIPT_STEMMERS: dict[str, tuple[str, ...]] = {
    "latin": ("english",),
    "greek": ("greek",),
    "cyrillic": ("russian",),
    "armenian": ("armenian",),
    "arabic": ("arabic", "persian"),
    "devanagari": ("hindi", "nepali"),
    "tamil": ("tamil",),
}
_SCRIPT_RANGES = (
    (0x0250, "latin"),
    (0x0370, ""),
    (0x0400, "greek"),
    (0x0530, "cyrillic"),
    (0x0590, "armenian"),
    (0x0600, ""),
    (0x0700, "arabic"),
    (0x0750, ""),
    (0x0780, "arabic"),
    (0x0900, ""),
    (0x0980, "devanagari"),
    (0x0B80, ""),
    (0x0C00, "tamil"),
)
# Declared languages (ISO 639-1) that pick a script's second stemmer.
_DECLARED = {"fa": "persian", "ne": "nepali"}
# Letters Persian has and Arabic lacks (checked before ی and ک fold to their Arabic twins).
_PERSIAN_LETTERS = re.compile("[\u067e\u0686\u0698\u06af\u06a9\u06cc]")

Stemming = frozenset[str]
"""The stemmers chosen over their script's first: empty for most entries, {"persian"}..."""

DEFAULT_STEMMING: Stemming = frozenset()
_ALTERNATIVES = tuple(
    (script, algorithms[1:]) for script, algorithms in _SCRIPT_STEMMERS.items() if algorithms[1:]
)


def _script(token: str) -> str:
    if token.isascii():
        return "latin"
    code = ord(token[0])
    if code >= 0x1E00 and code < 0x1F00:
        return "latin"
    for end, script in _SCRIPT_RANGES:
        if code < end:
            return script
    return ""


def entry_stemming(text: str, language: str | None = None) -> Stemming:
    """The stemmers an entry's words take: by its declared language, else by what it shows.

    ``language`` is the feed's declared language (``fa``, ``fa-IR``); without one, Arabic
    script with letters only Persian has is Persian. Everything else takes its script's
    first stemmer (English for Latin script, Russian for Cyrillic, Greek, Arabic).
    """
    if language:
        declared = _DECLARED.get(language.split("-")[0].split("_")[0].lower())
        return DEFAULT_STEMMING if declared is None else frozenset({declared})
    if not text.isascii() and _PERSIAN_LETTERS.search(text) is not None:
        return frozenset({"persian"})
    return DEFAULT_STEMMING


def query_stemmings(tokens: Iterable[str]) -> tuple[Stemming, ...]:
    """Every stemming an entry could have that would stem ``tokens`` differently.

    A topic is stemmed once for each, so it finds its words in entries of every language
    its scripts are written in; at most a handful, since few scripts have two stemmers.
    """
    scripts = {_script(token) for token in tokens}
    variants: list[Stemming] = [DEFAULT_STEMMING]
    for script, alternatives in _ALTERNATIVES:
        if script in scripts:
            variants += [variant | {choice} for variant in variants for choice in alternatives]
    return tuple(variants)


_STEMMERS: dict[str, Stemmer.Stemmer] = {}
_STEMMER_LOCK = threading.Lock()  # PyStemmer instances keep state and must not be shared
_STEM_CACHE_SIZE = 50_000

# Endings that inflect a word (plural, past, participle, -ing noun) and the derivational tails
# they may close; the longest is tried first.
_INFLECTIONS = ("ings", "ing", "ies", "ied", "ed", "es", "d", "s", "y", "e")
_DOUBLED_BEFORE = ("ings", "ing", "ed")  # stopped, controlling: the consonant was doubled
# Not a word character, and no ASCII punctuation, so the full-text index keeps it inside
# the token (its tokenizer splits at ASCII punctuation and spaces only).
_DERIVATION_MARK = "\u00b7"


class _StemCache(dict[str, str]):
    """Token → stem under one stemming, computed on first use; known tokens stay in C."""

    def __init__(self, stemming: Stemming) -> None:
        super().__init__()
        self.stemming = stemming

    def __missing__(self, token: str) -> str:
        if len(self) >= _STEM_CACHE_SIZE:  # news brings new names every day: stay bounded
            self.clear()
        result = self[token] = _stem_uncached(token, self.stemming)
        return result


_CACHES: dict[Stemming, _StemCache] = {}


def _cache(stemming: Stemming) -> _StemCache:
    cache = _CACHES.get(stemming)
    if cache is None:
        cache = _CACHES[stemming] = _StemCache(stemming)
    return cache


def stem(token: str, stemming: Stemming = DEFAULT_STEMMING) -> str:
    """The form of ``token`` that its inflections share (``sanctioned`` → ``sanction``).

    The stemmer is the one for the token's script (Snowball English, Russian, Greek, Arabic,
    ...), or the one ``stemming`` picks for it. In English, Snowball also strips derivational
    suffixes (``Islamic`` → ``islam``, ``national`` → ``nation``); those would let a name
    match its adjective, so a derived word keeps its own stem, marked so that it never equals
    a plain one (``islam·ic``).
    """
    return _cache(stemming)[token]


def stems(tokens: Iterable[str], stemming: Stemming = DEFAULT_STEMMING) -> list[str]:
    """``stem`` of each token, in order."""
    return list(map(_cache(stemming).__getitem__, tokens))


def _snowball(algorithm: str, token: str) -> str:
    with _STEMMER_LOCK:
        stemmer = _STEMMERS.get(algorithm)
        if stemmer is None:
            stemmer = _STEMMERS[algorithm] = Stemmer.Stemmer(algorithm, 0)
        result: str = stemmer.stemWord(token)
    return result


def _stem_uncached(token: str, stemming: Stemming) -> str:
    script = _script(token)
    algorithms = _SCRIPT_STEMMERS.get(script)
    # A lone surrogate could not be handed to the C library at all.
    if algorithms is None or not token.isprintable():
        return token
    algorithm = next((choice for choice in algorithms if choice in stemming), algorithms[0])
    if algorithm != "english":
        # Stemmers write some letters their own way (Persian ک, Greek final ς): fold them
        # back, so a stem never holds a letter the normaliser has folded.
        return _snowball(algorithm, token).casefold().translate(_ARABIC_LETTERS) or token
    if not token.isascii():
        return token
    snowball = _snowball("english", token)
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


class Analysed(NamedTuple):
    """An entry's title and text as tokens, and their stems in the entry's language."""

    title_words: list[str]
    text_words: list[str]
    title_stems: list[str]
    text_stems: list[str]


def analyse(title: str, text: str, *, language: str | None = None) -> Analysed:
    """Tokens and stems of an entry: what the matcher and the full-text index both hold.

    ``language`` is the feed's declared language, if it gave one (see ``entry_stemming``).
    """
    title_words = tokenize(title)
    text_words = tokenize(text)
    stemming = entry_stemming(title, language)
    if not stemming and not language:
        stemming = entry_stemming(text)
    return Analysed(
        title_words, text_words, stems(title_words, stemming), stems(text_words, stemming)
    )


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
