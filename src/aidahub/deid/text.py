"""Scrubbing of identifiers from free text that a profile keeps.

Appendix 3 of the policy says what to remove from the examination's response (report):
"remove number, names and initials (pat and doc), HSAID", and its examples remove "name,
personal identification number and telephone number". :func:`scrub` replaces each find
with a bracketed placeholder naming its category:

* ``[personal number removed]``: Swedish personal identity and coordination numbers;
* ``[identifier removed]``: HSA-ids, and request, examination and journal numbers named as
  such;
* ``[e-mail removed]``: e-mail addresses;
* ``[phone removed]``: phone numbers;
* ``[date removed]``: dates, with a time joined to one;
* ``[address removed]``: street addresses and postal codes;
* ``[name removed]``: the names given to :func:`scrub`, and their initials.

Every detector runs on the original text; where finds overlap the longest wins (then the
earlier line above), so a personal number is not half-replaced as a date. The patterns and
the choices behind them are documented on each detector below. Text that is only clinical
("CT thorax with contrast, 5 mm slices, 120 kV") is returned unchanged.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

from pydicom.dataset import Dataset

__all__ = [
    "CATEGORIES",
    "PLACEHOLDERS",
    "ScrubResult",
    "find_identifiers",
    "names_from_values",
    "names_in",
    "scrub",
    "scrub_text",
]

CATEGORIES = ("personal number", "identifier", "e-mail", "phone", "date", "address", "name")
"""Categories in order of precedence when two finds of equal length overlap."""

PLACEHOLDERS = {category: f"[{category} removed]" for category in CATEGORIES}
"""The replacement text of each category."""

# (start, end, category) in the original text
_Find = tuple[int, int, str]


@dataclass
class ScrubResult:
    """The scrubbed text and what was removed.

    Attributes
    ----------
    text : str
        The text with every find replaced by its placeholder.
    found : list[str]
        The categories found, each once, in order of first appearance.
    """

    text: str
    found: list[str] = field(default_factory=list)


def scrub(text: str, *, names: Sequence[str] = ()) -> ScrubResult:
    """Replace every identifier in *text* with its category placeholder.

    Parameters
    ----------
    text : str
        Free text: a report, a description, a comment.
    names : Sequence[str]
        Person names to remove, as :func:`names_in` returns them: DICOM PN values
        (``Family^Given^Middle``), free-form names (``Given Family``) or single name
        parts. Each part of at least two letters is removed as a whole word (case and
        diacritics ignored, with a genitive ``-s``). From a name with both given and
        family names, the initials are removed too, in capitals: ``AE``, ``A.E.``,
        ``A. E.``, ``AKE`` (all given names) and the signature ``ANER`` (two letters of
        each); a two-letter form that is also a common word or abbreviation (``PE``,
        ``CT``, ``AV``) only when written with dots.

    Returns
    -------
    ScrubResult
    """
    finds: list[_Find] = []
    for detector in _DETECTORS:
        finds.extend(detector(text))
    finds.extend(_names(text, names))
    kept = _resolve(finds)
    pieces: list[str] = []
    position = 0
    for start, end, category in kept:
        pieces.append(text[position:start])
        pieces.append(PLACEHOLDERS[category])
        position = end
    pieces.append(text[position:])
    found = list(dict.fromkeys(category for _, _, category in kept))
    return ScrubResult(text="".join(pieces), found=found)


def find_identifiers(text: str, *, names: Sequence[str] = ()) -> list[tuple[str, str]]:
    """Return what :func:`scrub` would remove from *text*: (category, the text found) pairs.

    For searching elsewhere for what a free text gave away (``aidahub deid verify``), in
    order of appearance, each found text once.
    """
    finds: list[_Find] = []
    for detector in _DETECTORS:
        finds.extend(detector(text))
    finds.extend(_names(text, names))
    found = {(category, text[start:end]): None for start, end, category in _resolve(finds)}
    return list(found)


def scrub_text(text: str, names: Sequence[str] = ()) -> str:
    """Return :func:`scrub` (*text*, names=*names*) ``.text``."""
    return scrub(text, names=names).text


def names_in(ds: Dataset) -> list[str]:
    """Return every person name in *ds*, at any depth of sequences, ready for :func:`scrub`.

    All PN elements count: the patient's, physicians', operators', SR observers' and any
    other. Each name is returned as written (``Family^Given^Middle``, per ``=`` group, so
    :func:`scrub` can form initials) followed by its usable parts: each part of at least
    two letters, split at ``^``, ``=``, spaces and hyphens. Name prefixes and suffixes
    (``Dr``, ``Jr``) and particles (``von``, ``af``) are not parts. No duplicates.

    Parameters
    ----------
    ds : Dataset

    Returns
    -------
    list[str]
    """
    values: list[str] = []
    for element in ds.iterall():
        if element.VR != "PN" or element.value is None:
            continue
        values.extend(str(v) for v in (element.value if element.VM > 1 else [element.value]))
    return list(names_from_values(tuple(values)))


@functools.lru_cache(maxsize=1024)
def names_from_values(values: tuple[str, ...]) -> tuple[str, ...]:
    """Return the names of :func:`names_in` from PN values given as strings.

    Cached, as the slices of a series name the same people.
    """
    result: dict[str, None] = {}
    for value in values:
        for group in value.split("="):
            group = group.strip()
            if len(_WORD_SPLIT.split(group.strip(" ^"))) > 1:
                result[group] = None
            for word in _name_words(group):
                result[word] = None
    return tuple(result)


# ---------------------------------------------------------------------------------------
# Personal identity and coordination numbers (Skatteverket SKV 704 and 707)


_PERSONAL_NUMBER = re.compile(
    r"(?<![\w.,])(?P<century>18|19|20)?(?P<yy>\d\d)(?P<mm>\d\d)(?P<dd>\d\d)"
    r"(?P<sep>[-+]|[ ]?)(?P<tail>\d{4}|[0-9A-Z]{4})(?!\w)"
)


def _personal_numbers(text: str) -> Iterator[_Find]:
    """Find personal identity and coordination numbers.

    Forms: ``YYYYMMDD-NNNN``, ``YYMMDD-NNNN``, ``+`` instead of ``-`` (age 100 or more),
    no separator, or one space. The date part must be a real date; a coordination number
    (samordningsnummer) has 60 added to the day. Conservatively, a number with a valid
    date part is removed even when its check digit fails the Luhn test (a mistyped
    personal number still points at a person), except in two cases where it counts only
    when Luhn-valid: written with a space (``850709 1234`` may be a date and a time), and
    ten digits beginning with ``0`` without a separator (``0701234567`` is more likely a
    phone number, which is removed anyway). With century and ``-``, the last four may hold
    letters (regional reserve numbers such as ``19850709-T123``).
    """
    for match in _PERSONAL_NUMBER.finditer(text):
        century, yy, mm, dd, sep, tail = match.group("century", "yy", "mm", "dd", "sep", "tail")
        day = int(dd) - 60 if int(dd) > 60 else int(dd)
        years = [int(century + yy)] if century else [1900 + int(yy), 2000 + int(yy)]
        if not any(_valid_date(year, int(mm), day) for year in years):
            continue
        if not tail.isdigit():
            keep = bool(century) and sep == "-"
        else:
            keep = (
                _luhn(yy + mm + dd + tail)
                or sep in ("-", "+")
                or (not sep and (bool(century) or not yy.startswith("0")))
            )
        if keep:
            yield match.start(), match.end(), "personal number"


def _luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(digits):
        product = int(char) * (2 if i % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return total % 10 == 0


# ---------------------------------------------------------------------------------------
# HSA-ids and e-mail addresses


_HSA_ID = re.compile(r"(?<!\w)[Ss][Ee]\d{10}(?:-[A-Za-z0-9]+)?(?!\w)")
_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?!\w)")


_NUMBER_CUE = re.compile(
    r"(?i:(?<!\w)(?:remiss|us|undersöknings|journal|lab|prov|accession|patient|pat|id|ref)"
    r"(?:[ -]?(?:nr|nummer|number|no|id))\.?:?[ ]*|(?<!\w)(?:pid|mrn)\.?:?[ ]*)"
    r"(?P<number>[A-Za-z]{0,4}-?\d[\w/-]*\d)(?!\w)"
)


def _hsa_ids(text: str) -> Iterator[_Find]:
    """Find HSA-ids: ``SE`` + 10 digits (the organisation number) + ``-`` + alphanumerics.

    The organisation part alone (``SE2321000016``) is removed too: it names the caregiver.
    Request, examination, journal and accession numbers are removed after the words that
    name them (``remissnr``, ``us-nr``, ``undersökningsnummer``, ``journalnr``,
    ``accession no``, ``PID``, ``MRN``, ...): the policy removes "request- and examination
    numbers" too. The cue word is kept; the number needs three digits or more.
    """
    for match in _HSA_ID.finditer(text):
        yield match.start(), match.end(), "identifier"
    for match in _NUMBER_CUE.finditer(text):
        if _digit_count(match.group("number")) >= 3:
            yield match.start("number"), match.end("number"), "identifier"


def _emails(text: str) -> Iterator[_Find]:
    """Find e-mail addresses (local part, ``@``, dotted domain; letters such as å allowed)."""
    for match in _EMAIL.finditer(text):
        yield match.start(), match.end(), "e-mail"


# ---------------------------------------------------------------------------------------
# Phone numbers


_PHONE_NATIONAL = re.compile(
    r"(?<![\w+.,/])0\d{1,3}(?:[ ]?[-/][ ]?|[ ])?\d{2,4}(?:[ -]?\d{2,4}){0,3}(?!\w|[.,]\d)"
)
_PHONE_INTERNATIONAL = re.compile(
    r"(?<![\w+])(?:\+|00)[1-9]\d{0,2}(?:[ -]?\(0\))?[ -]?\d{1,4}(?:[ -]?\d{2,4}){1,5}"
    r"(?!\w|[.,]\d)"
)
_PHONE_CUE = re.compile(
    r"(?i:(?<!\w)(?:tel(?:efon)?|tfn|telnr|mob(?:il)?(?:nr)?|phone|fax|sökare|ankn(?:ytning)?"
    r"|direktnr)\.?(?:[ ]?nr\.?)?:?[ ]*)(?P<number>\+?\d[\d -]{2,}\d)(?!\w)"
)


def _phones(text: str) -> Iterator[_Find]:
    """Find phone numbers.

    * Swedish national form: a trunk ``0`` and area code (``070``, ``08``, ``013``), an
      optional ``-``, ``/`` or space, and digit groups (``070-123 45 67``,
      ``08-123 456 78``, ``013-12 34 56``, ``0701234567``): 8 to 10 digits in all.
    * International form: ``+`` or ``00``, a country code, an optional ``(0)`` and digit
      groups (``+46 70 123 45 67``, ``+44 20 7946 0958``): 8 to 15 digits after the
      prefix.
    * Any number of 4 to 15 digits after a cue word (``tel``, ``telefon``, ``tfn``,
      ``mobil``, ``phone``, ``fax``, ``sökare``, ``ankn``): short extensions and local
      numbers. The cue word itself is kept.

    Decimals (``0,625``), measures and series numbers do not start with a trunk ``0``
    followed by enough digits, so they are left alone.
    """
    for match in _PHONE_NATIONAL.finditer(text):
        if 8 <= _digit_count(match.group()) <= 10:
            yield match.start(), match.end(), "phone"
    for match in _PHONE_INTERNATIONAL.finditer(text):
        digits = _digit_count(match.group()) - (2 if match.group().startswith("00") else 0)
        if 8 <= digits <= 15:
            yield match.start(), match.end(), "phone"
    for match in _PHONE_CUE.finditer(text):
        if 4 <= _digit_count(match.group("number")) <= 15:
            yield match.start("number"), match.end("number"), "phone"


def _digit_count(text: str) -> int:
    return sum(1 for char in text if char.isdigit())


# ---------------------------------------------------------------------------------------
# Dates


_MONTHS = {
    **dict.fromkeys(("januari", "january", "jan"), 1),
    **dict.fromkeys(("februari", "february", "feb"), 2),
    **dict.fromkeys(("mars", "march", "mar"), 3),
    **dict.fromkeys(("april", "apr"), 4),
    **dict.fromkeys(("maj", "may"), 5),
    **dict.fromkeys(("juni", "june", "jun"), 6),
    **dict.fromkeys(("juli", "july", "jul"), 7),
    **dict.fromkeys(("augusti", "august", "aug"), 8),
    **dict.fromkeys(("september", "sept", "sep"), 9),
    **dict.fromkeys(("oktober", "october", "okt", "oct"), 10),
    **dict.fromkeys(("november", "nov"), 11),
    **dict.fromkeys(("december", "dec"), 12),
}
# Abbreviations, and English "may" (a verb), need a year to count as a date.
_NEEDS_YEAR = {"jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "okt", "oct"}
_NEEDS_YEAR |= {"nov", "dec", "may"}
# "March 15" without a year is English; "mars 15" is not how Swedish writes a date.
_ENGLISH_MONTHS = {"january", "february", "march", "april", "june", "july", "august"}
_ENGLISH_MONTHS |= {"september", "october", "november", "december"}
_MONTH = "(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + ")"
_YEAR4 = r"(?:19|20)\d\d"
_TIME = (
    r"(?:(?:T|,?[ ]+)(?:kl\.?[ ]*(?:[01]?\d|2[0-3])[:.][0-5]\d|(?:[01]?\d|2[0-3]):[0-5]\d)"
    r"(?::[0-5]\d(?:[.,]\d+)?)?)?"
)
_DATE_PATTERNS = [
    # (pattern, kind); groups: a = month, b = day, year or year4, month (a name)
    # 2024-03-15, 2024/3/15, 2024.03.15, with an optional time
    (
        re.compile(
            rf"(?<![\w.,/-])(?P<year>{_YEAR4})(?P<sep>[-/.])(?P<a>[01]?\d)(?P=sep)(?P<b>[0-3]?\d)"
            rf"{_TIME}(?!\w|[./-]\d)"
        ),
        "numeric",
    ),
    # 20240315, 20240315143000 (DICOM DA and DT)
    (
        re.compile(
            rf"(?<![\w.,])(?P<year>{_YEAR4})(?P<a>[01]\d)(?P<b>[0-3]\d)"
            r"(?:[0-2]\d(?:[0-5]\d(?:[0-5]\d(?:\.\d{1,6})?)?)?)?(?!\w|[.,]\d)"
        ),
        "numeric",
    ),
    # 15/3/2024, 15.03.2024, 15-03-24, 3/15/2024 (day and month in either order)
    (
        re.compile(
            rf"(?<![\w.,/-])(?P<b>[0-3]?\d)(?P<sep>[-/.])(?P<a>[0-3]?\d)(?P=sep)"
            rf"(?P<year>(?:19|20)?\d\d){_TIME}(?!\w|[./-]\d)"
        ),
        "either order",
    ),
    # Swedish 15/3-24, 15/3-2024, 15/3 2024
    (
        re.compile(
            rf"(?<![\w.,/-])(?P<b>[0-3]?\d)/(?P<a>[01]?\d)(?:-(?P<year>(?:19|20)?\d\d)"
            rf"|[ ](?P<year4>{_YEAR4})){_TIME}(?!\w|[./-]\d)"
        ),
        "numeric",
    ),
    # 15 mars 2024, 15:e mars, 1st of May 2024, 15-MAR-2024
    (
        re.compile(
            rf"(?i:(?<![\w.,])(?P<b>[0-3]?\d)(?::[ae]|st|nd|rd|th|\.)?[ /-]?(?:of[ ])?{_MONTH}"
            rf"(?![^\W\d_])\.?(?:[ ,/-]*(?P<year>{_YEAR4}))?(?!\d){_TIME})"
        ),
        "day month",
    ),
    # March 15, 2024; March 15th; mars 2024
    (
        re.compile(
            rf"(?i:(?<!\w){_MONTH}\.?[ ]+(?:(?P<b>[0-3]?\d)(?:st|nd|rd|th)?(?!\d)"
            rf"(?:,?[ ]+(?P<year>{_YEAR4}))?|(?P<year4>{_YEAR4}))(?!\w|[.,]\d))"
        ),
        "month day",
    ),
]
# 240315 (YYMMDD): not after words that number series and images.
_YYMMDD = re.compile(r"(?<![\w.,+-])(?P<year>\d\d)(?P<a>[01]\d)(?P<b>[0-3]\d)(?!\w|[.,]\d)")
_NOT_DATE_AFTER = re.compile(
    r"(?i:(?:serie|series|bild|bilder|image|images|img|snitt|slice|slices|nr|no|#)\.?:?[ ]*)$"
)
# 15/3 without a year, only after a word that announces a date.
_DAY_MONTH_CUE = re.compile(
    r"(?i:(?<!\w)(?:den|från|sedan|jmf\.?|jfr\.?|jämfört[ ]+med|jämför[ ]+med|us|"
    r"undersökning(?:en)?|datum|dat\.|daterad|on|from|since|dated)[ ]+)"
    r"(?P<b>[0-3]?\d)/(?P<a>[01]?\d)(?![\w/]|[.,-]\d)"
)


def _dates(text: str) -> Iterator[_Find]:
    """Find dates, in the forms clinical text uses.

    Numeric: ``2024-03-15`` (also ``/`` and ``.``), ``20240315`` and DICOM DT
    ``20240315143000``, ``15/3/2024``, ``15.03.2024``, ``15-03-24``, US ``3/15/2024``,
    Swedish ``15/3-24`` and ``15/3 2024``, ``240315`` (YYMMDD, not after "serie", "bild",
    "image", "nr", ...), and ``15/3`` without a year only after a cue such as "den",
    "från", "jmf", "us", "on", "from". With month names (Swedish and English, full or
    abbreviated, any case): ``15 mars 2024``, ``15:e mars``, ``15-MAR-2024``,
    ``March 15, 2024``, ``mars 2024``; an abbreviated month or English "may" needs a
    year. A time joined to a date (``2024-03-15 14:35``, ``15/3-24 kl. 14.35``) goes with
    it. Every candidate must be a real calendar date. Years alone (``2019``) and times
    alone are kept: they place an examination only coarsely.
    """
    for pattern, kind in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            if _real_date(match, kind):
                yield match.start(), match.end(), "date"
    for match in _YYMMDD.finditer(text):
        if _real_date(match) and not _NOT_DATE_AFTER.search(text, 0, match.start()):
            yield match.start(), match.end(), "date"
    for match in _DAY_MONTH_CUE.finditer(text):
        if _real_date(match):
            yield match.start("b"), match.end("a"), "date"


def _real_date(match: re.Match[str], kind: str = "numeric") -> bool:
    """Whether a date candidate is a calendar date (groups: a = month, b = day)."""
    groups = match.groupdict()
    year_text = groups.get("year") or groups.get("year4")
    year = int(year_text or 2000)  # no year: 2000, a leap year, so 29/2 counts
    year += 2000 if year < 100 else 0
    month_name = (groups.get("month") or "").lower()
    if month_name:
        if groups.get("b") is None:  # "mars 2024"
            return True
        if year_text is None and (
            month_name in _NEEDS_YEAR or (kind == "month day" and month_name not in _ENGLISH_MONTHS)
        ):
            return False
        return _valid_date(year, _MONTHS[month_name], int(groups["b"]))
    month, day = int(groups["a"]), int(groups["b"])
    either = kind == "either order"
    return _valid_date(year, month, day) or (either and _valid_date(year, day, month))


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------------------
# Street addresses and postal codes


_STREET_SUFFIXES = (
    "gatan", "gata", "vägen", "väg", "gränd", "gränden", "allé", "allén",
    "torget", "torg", "backe", "backen", "stigen", "stig", "stråket", "kajen", "esplanaden",
    "promenaden", "slingan", "platsen", "gången",
)  # fmt: skip
# Medical compounds ending like streets (luftvägen: the airway; gallgången: the bile duct).
_MEDICAL_STEMS = (
    "luft", "gall", "urin", "tår", "andnings", "blod", "lymf", "pankreas", "mjölk", "sädes",
    "hörsel", "näs", "svalg", "mag", "tarm", "kanal", "sekret", "cirkulations",
)  # fmt: skip
# Words that are streets only with a name in front ("Kyrkogången 4", not "gången 4").
_NEEDS_PREFIX = {"gången", "platsen", "stigen", "stig", "backe", "backen", "väg", "torg"}
_STREET = re.compile(
    r"(?<![\w-])(?P<street>(?:(?:Norra|Södra|Östra|Västra|Gamla|Nya|Stora|Lilla|Sankt|S:t)"
    r"[ ]+)?[^\W\d_][^\W\d_]*(?:-[^\W\d_]+)*)[ ]+(?P<number>\d{1,4}(?:[ ]?[A-Za-z](?!\w))?)"
    r"(?!\w|[.,]\d|[ ]?(?:mm|cm|kV|mAs|mGy)\b)"
    r"(?P<tail>(?:,?[ ]*(?:lgh|lägenhet|tr|trappa|vån)\.?[ ]*\d{1,4})?"
    r"(?:,?[ ]*(?:SE-?|S-)?[1-9]\d\d[ ]?\d\d(?:[ ]+[A-ZÅÄÖ][^\W\d_]+(?:[ -][A-ZÅÄÖ][^\W\d_]+)?)?"
    r"(?!\w))?)"
)
_BOX = re.compile(r"(?<!\w)Box[ ]+\d{1,5}(?!\w)")
_ENGLISH_STREET = re.compile(
    r"(?<![\w.,])\d{1,5}[ ]+(?:[A-Z][a-z]+[ ]+){1,3}"
    r"(?:(?:Street|Road|Avenue|Lane|Drive|Boulevard|Way|Court|Place)\b|(?:Rd|Ave)\b\.?)"
)
_UNITS = (
    "mm", "cm", "m", "km", "kv", "kev", "ma", "mas", "mgy", "gy", "mgycm", "ms", "s", "sek",
    "hu", "ml", "mg", "g", "kg", "st", "x", "bilder", "snitt", "slices", "images", "%",
)  # fmt: skip
_POSTAL_CODE = re.compile(
    r"(?<![\w.,+-])(?P<prefix>SE-?|S-)?(?P<code>[1-9]\d\d[ ]\d\d|[1-9]\d{4})(?!\w|[.,]\d)"
    r"(?P<town>[ ]+[A-ZÅÄÖ][a-zåäöé]{2,}(?:[ -][A-ZÅÄÖ][a-zåäöé]{2,})?)?"
)


def _addresses(text: str) -> Iterator[_Find]:
    """Find street addresses and postal codes.

    * A Swedish street: a capitalised word ending in a street suffix (``-gatan``,
      ``-vägen``, ``-gränd``, ``-allén``, ``-torget``, ``-backen``, ``-stigen``, ...),
      optionally after Norra/Södra/Gamla/S:t..., then a house number (``12``, ``5B``),
      optionally ``lgh 1101`` and a postal code and town (``Storgatan 12, 582 25
      Linköping``). Medical compounds (``Luftvägen``, ``Gallgången``) are not streets, and
      generic words (``gången``, ``platsen``) count only with a name in front.
    * ``Box 1234``, and an English ``12 Baker Street``.
    * A postal code ``582 25`` (``SE-582 25``), with the town after it if any; five digits
      without the space (``58225``) only with ``SE-``/``S-`` or a town. A number pair
      followed by a unit (``120 40 mm``) is not a postal code.
    """
    for match in _STREET.finditer(text):
        if _is_street(match.group("street")):
            yield match.start(), match.end(), "address"
    for pattern in (_BOX, _ENGLISH_STREET):
        for match in pattern.finditer(text):
            yield match.start(), match.end(), "address"
    for match in _POSTAL_CODE.finditer(text):
        if " " not in match.group("code") and not (match.group("prefix") or match.group("town")):
            continue
        if not match.group("town") and _next_word(text, match.end()) in _UNITS:
            continue
        yield match.start(), match.end(), "address"


def _is_street(words: str) -> bool:
    word = words.split()[-1]
    lower = word.lower()
    if not word[0].isupper():
        return False
    suffix = next((x for x in _STREET_SUFFIXES if lower.endswith(x)), None)
    if suffix is None:
        return False
    stem = lower[: -len(suffix)]
    if not stem:
        return lower not in _NEEDS_PREFIX or len(words.split()) > 1
    return not stem.startswith(_MEDICAL_STEMS)


def _next_word(text: str, position: int) -> str:
    match = re.compile(r"[ ]*(\S+)").match(text, position)
    return match.group(1).lower().rstrip(".,;:") if match else ""


# ---------------------------------------------------------------------------------------
# Names and initials


_PARTICLES = {
    "af", "av", "da", "de", "del", "della", "den", "der", "di", "du", "el", "la", "le", "van",
    "von", "y", "zu", "ten", "ter", "bin", "ibn", "al",
}  # fmt: skip
# Two-letter initials that are also common words or clinical abbreviations are removed
# only when written with dots ("P.E."), never as "PE" (pulmonary embolism).
_COMMON_INITIALS = {
    "AB", "AD", "AM", "AN", "AP", "AS", "AT", "AV", "BE", "BP", "BY", "CA", "CR", "CT", "DE",
    "DO", "DR", "DT", "DU", "DX", "EN", "ER", "ET", "FS", "GD", "GE", "GO", "HE", "HR", "HU",
    "IF", "IM", "IN", "IR", "IS", "IT", "IV", "JA", "KO", "KV", "LL", "LT", "ME", "MG", "MR",
    "MS", "MY", "NM", "NO", "NU", "OF", "OM", "ON", "OR", "OT", "PA", "PE", "PT", "PÅ", "RL",
    "RT", "SC", "SE", "SO", "SR", "SÅ", "TA", "TE", "TI", "TO", "TR", "UL", "UP", "US", "UT",
    "VI", "WE",
}  # fmt: skip
_WORD_SPLIT = re.compile(r"[\s^=]+")
_GENITIVE = r"(?:s|'s|’s|:s)?"


def _names(text: str, names: Iterable[str]) -> Iterator[_Find]:
    """Find the given names, whole words, ignoring case and diacritics; and their initials.

    The text and the names are compared with diacritics removed (``Åsa`` matches
    ``ASA`` and ``åsa``), and a Swedish or English genitive (``Erikssons``, ``Smith's``) is
    part of the find. Initials are compared case-sensitively, as initials are written in
    capitals.
    """
    patterns = _name_patterns(tuple(names))
    if not patterns:
        return
    folded, index = _fold_with_index(text)
    for pattern in patterns:
        for match in pattern.finditer(folded):
            end = index[match.end() - 1] + 1
            while end < len(text) and unicodedata.combining(text[end]):
                end += 1  # a decomposed diacritic belongs to the name
            yield index[match.start()], end, "name"


@functools.lru_cache(maxsize=256)
def _name_patterns(names: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    """The compiled patterns of :func:`_names` for a set of names.

    A batch scrubs the text of one series after another with the same names, so the
    patterns are compiled once per set (the cache lives in the worker process only).
    """
    words: dict[str, None] = {}
    initials: dict[str, None] = {}
    for name in names:
        for group in name.split("="):
            for word in _name_words(group):
                words[_fold(word)] = None
            for initial in _initials(group):
                initials[initial] = None
    patterns: list[re.Pattern[str]] = []
    if words:
        alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        patterns.append(re.compile(rf"(?<!\w)(?:{alternatives}){_GENITIVE}(?!\w)", re.IGNORECASE))
    for initial in initials:
        # "A.E.", "A. E.", "A.E" for up to three letters; "AE" unless a common word
        forms = []
        if len(initial) <= 3:
            forms.append(r"\.[ ]?".join(re.escape(_fold(c)) for c in initial) + r"\.?")
        if not (len(initial) == 2 and initial in _COMMON_INITIALS):
            forms.append(re.escape(_fold(initial)))
        if forms:
            patterns.append(re.compile(rf"(?<![\w.])(?:{'|'.join(forms)}){_GENITIVE}(?!\w)"))
    return tuple(patterns)


def _name_words(group: str) -> list[str]:
    """The parts of one name usable as words: two letters or more, no particles."""
    components = group.split("^")
    if len(components) > 3:
        components = components[:3]  # prefix and suffix (Dr, Jr) are not names
    words: list[str] = []
    for component in components:
        for word in component.split():
            word = word.strip(".,")
            pieces = [word, *word.split("-")] if "-" in word else [word]
            for piece in pieces:
                letters = sum(1 for char in piece if char.isalpha())
                if letters >= 2 and piece.lower() not in _PARTICLES:
                    words.append(piece)
    return words


def _initials(group: str) -> list[str]:
    """Initials of one name: given names' first letters, then the family name's.

    For ``Eriksson^Anna Karin`` (or the free form ``Anna Karin Eriksson``): ``AKE`` and
    ``AE``; plus a four-letter signature of the first two letters of the first given and
    the family name (``ANER``), as Swedish hospitals sign reports. Nothing is formed from
    a name with only a family or only a given name.
    """
    if "^" in group:
        components = [*group.split("^"), "", ""]
        family = _split_name(components[0])
        given = _split_name(components[1]) + _split_name(components[2])
    else:
        words = _split_name(group)
        family, given = words[-1:], words[:-1]
    if not family or not given:
        return []
    family_letters = "".join(word[0] for word in family).upper()
    result = {
        "".join(word[0] for word in given).upper() + family_letters,
        given[0][0].upper() + family_letters,
        given[0][0].upper() + family[0][0].upper(),
    }
    if len(given[0]) >= 2 and len(family[0]) >= 2:
        result.add((given[0][:2] + family[0][:2]).upper())
    return sorted(result)


def _split_name(component: str) -> list[str]:
    words = re.split(r"[\s-]+", component.strip())
    return [w.strip(".,") for w in words if w.strip(".,") and w.lower() not in _PARTICLES]


_EXTRA_FOLDS = {"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ł": "l"}
_EXTRA_FOLDS |= {"Ł": "L", "đ": "d", "Đ": "D", "ß": "ss", "’": "'"}


def _fold(text: str) -> str:
    return _fold_with_index(text)[0]


def _fold_with_index(text: str) -> tuple[str, list[int]]:
    """Remove diacritics; return the folded text and each folded character's source index."""
    out: list[str] = []
    index: list[int] = []
    for i, char in enumerate(text):
        if char.isascii():
            folded = char
        else:
            folded = _EXTRA_FOLDS.get(char) or "".join(
                c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
            )
        out.append(folded)
        index.extend([i] * len(folded))
    index.append(len(text))
    return "".join(out), index


# ---------------------------------------------------------------------------------------
# Putting it together


_DETECTORS = (_personal_numbers, _hsa_ids, _emails, _phones, _dates, _addresses)


def _resolve(finds: list[_Find]) -> list[_Find]:
    """Merge overlapping finds of one category, then keep the longest of overlapping
    finds of different categories (ties: category precedence)."""
    merged: list[_Find] = []
    for start, end, category in sorted(finds, key=lambda f: (f[2], f[0], f[1])):
        if merged and merged[-1][2] == category and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]), category)
        elif start < end:
            merged.append((start, end, category))
    rank = {category: i for i, category in enumerate(CATEGORIES)}
    # Kept finds never overlap, so their starts and ends sort alike: one bisect finds the
    # neighbours a new find could overlap (a long report can hold thousands of finds).
    starts: list[int] = []
    kept: list[_Find] = []
    for find in sorted(merged, key=lambda f: (f[0] - f[1], rank[f[2]], f[0])):
        i = bisect.bisect_left(starts, find[0])
        if i > 0 and kept[i - 1][1] > find[0]:
            continue
        if i < len(kept) and kept[i][0] < find[1]:
            continue
        starts.insert(i, find[0])
        kept.insert(i, find)
    return kept
