"""Search bytes for identifying values in every form they could be written.

This is the search of ``aidahub deid verify`` (an independent re-scan of de-identified output
for the values of its inputs) and of the engine's own leak tests: the same rules in both
places. A :class:`Needle` is one value with the kind of value it is; :class:`Searcher`
compiles a list of them once and scans any number of files.

Forms searched for each value, by kind:

* ``person`` names: the whole value (as a whole word when shorter than 6 characters, as
  every short value is), given and family name in both orders, and every part
  split at ``^``, ``=``, spaces and hyphens; parts shorter than :data:`MIN_PART` characters
  and the :data:`COMMON_WORDS` are skipped, and parts shorter than 6 characters only count
  as whole words (so "Åsa" is found, but not inside "Läsare");
* any text in any letter case, with diacritics kept, folded (å, ä to a; ö to o; é to e) or
  spelled out (aa, ae, oe), decomposed (NFD), or escaped as JSON (``\\u00e5``), HTML
  (``&#229;``, ``&#xe5;``, ``&aring;``) and URL (``%C3%A5``) text;
* ``personnummer``: with and without century, hyphen, plus or space (``YYYYMMDDNNNN``,
  ``YYYYMMDD-NNNN``, ``YYMMDD-NNNN``, ``YYMMDD+NNNN``, ``YYMMDDNNNN``), never inside a
  longer run of digits;
* ``date``: ``YYYYMMDD`` (also as the start of a DT value), ``YYYY-MM-DD``, ``YYYY.MM.DD``,
  ``YYYY/MM/DD``, ``YYMMDD``, ``DD.MM.YYYY``, ``DD-MM-YYYY`` and ``DD/MM/YYYY``;
* ``phone`` numbers by their digits after the trunk or country prefix, with any spacing;
* ``identifier``: whole and by their runs of 6 or more digits; ``phrase`` (addresses and
  institutions): whole, by their distinctive words, street with number, and postal code;
  ``email``: whole and by the local part; ``uid``: as text, never inside a longer UID;
  ``text``: whole.

Values shorter than :data:`MIN_LENGTH` characters are not searched (three letters occur by
chance in any large file); :func:`forms` returns nothing for them.

How, and why it is fast. Every file is read as bytes and folded through one 256-entry table
(lower case, diacritics stripped), which keeps byte offsets; the forms are folded the same
way after being encoded as Latin-1 and as UTF-8, so a single pass finds both encodings.
UTF-16 text (little- and big-endian, both alignments) is searched in four more passes over
the code units below U+0100. All forms are compiled into one regular expression, a trie of
literals whose branches each start with a literal character, so the engine skips every
position whose character cannot start a form; boundaries are checked after a match.
Deflated DICOM datasets, gzip files and zip members are inflated and searched, and so are
base64 runs in text files (DICOM JSON carries binary values that way).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import gzip
import io
import itertools
import re
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom import dcmread
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.filereader import read_dataset

__all__ = [
    "COMMON_WORDS",
    "KINDS",
    "MIN_LENGTH",
    "MIN_PART",
    "Finding",
    "Needle",
    "Searcher",
    "forms",
]


@dataclass(frozen=True)
class Needle:
    """One value to search for.

    Parameters
    ----------
    category : str
        What the value is, reported with each finding (``"PatientName"``, ``"uid"``, ...).
    value : str
        The exact value.
    kind : str
        How to search for it: one of :data:`KINDS`.
    """

    category: str
    value: str
    kind: str = "text"


@dataclass(frozen=True)
class Finding:
    """One searched value found.

    Parameters
    ----------
    file : Path
        The file it was found in.
    category : str
        The needle's category.
    form : str
        The bytes that matched, decoded as `view` says.
    view : str
        How the bytes were written: ``"bytes"`` (ASCII, Latin-1 or UTF-8), ``"utf-16-le"`` or
        ``"utf-16-be"``.
    offset : int
        Byte offset of the match in the file, or in `stream` when that is set.
    stream : str
        ``""`` for the file's own bytes, else what was inflated or decoded:
        ``"deflated dataset"``, ``"gzip"``, ``"zip:<member>"`` or ``"base64@<offset>"``.
    """

    file: Path
    category: str
    form: str
    view: str
    offset: int
    stream: str = ""

    def __str__(self) -> str:
        where = f"{self.stream} " if self.stream else ""
        return (
            f"{self.file}: {self.category} {self.form!r} at {where}byte {self.offset} ({self.view})"
        )


class Searcher:
    """Every needle compiled into one pattern; scan files or bytes with it.

    Parameters
    ----------
    needles : iterable of Needle
        The values to search for; values with no searchable form (shorter than
        :data:`MIN_LENGTH`) are left out and listed in :attr:`skipped`.
    """

    def __init__(self, needles: Iterable[Needle]) -> None:
        self.skipped: list[Needle] = []
        self._matcher = _Matcher(needles, self.skipped)

    @property
    def empty(self) -> bool:
        """Whether there is nothing to search for."""
        return self._matcher.pattern is None

    def scan_file(self, path: Path) -> list[Finding]:
        """Every finding in the file at *path* (read whole)."""
        return self.scan_bytes(Path(path).read_bytes(), Path(path))

    def scan_bytes(self, data: bytes, name: Path | str = "<bytes>") -> list[Finding]:
        """Every finding in *data*, reported as found in the file *name*."""
        return self._matcher.scan(data, Path(name))


def forms(value: str, kind: str) -> list[str]:
    """Return the folded forms searched for one value, for reading and debugging.

    Parameters
    ----------
    value : str
        The exact value.
    kind : str
        ``"person"``, ``"personnummer"``, ``"date"``, ``"phone"``, ``"email"``, ``"phrase"``,
        ``"identifier"``, ``"uid"`` or ``"text"``.

    Returns
    -------
    list of str
        Folded literals and, for phone numbers, regular expressions; longest first.
    """
    return sorted({form.text for form in _forms(value, kind)}, key=len, reverse=True)


COMMON_WORDS = frozenset(
    {
        "and",
        "och",
        "the",
        "von",
        "van",
        "der",
        "den",
        "del",
        "lasarett",
        "sjukhus",
        "sjukhuset",
        "sjukstuga",
        "hospital",
        "klinik",
        "kliniken",
        "universitetssjukhus",
        "universitetssjukhuset",
        "region",
        "sweden",
        "sverige",
        "example",
        "mail",
    }
)
"""Words never searched alone: they occur in output without identifying anyone."""


# Folding. One table for the data and the forms: lower case, diacritics stripped, one byte
# to one character, so offsets in the folded text are offsets in the file.


def _fold_byte(byte: int) -> str:
    char = chr(byte).lower()
    base = unicodedata.normalize("NFD", char)[0]
    return base if len(char) == 1 and base.isascii() else chr(byte)


_FOLD = bytes.maketrans(bytes(range(256)), "".join(map(_fold_byte, range(256))).encode("latin-1"))


def _fold(data: bytes) -> str:
    return data.translate(_FOLD).decode("latin-1")


# Forms.

_SPELLED = {"å": "aa", "ä": "ae", "ö": "oe", "æ": "ae", "ø": "oe", "ü": "ue"}
_ENTITIES = {
    "å": "aring",
    "ä": "auml",
    "ö": "ouml",
    "æ": "aelig",
    "ø": "oslash",
    "é": "eacute",
    "è": "egrave",
    "ü": "uuml",
}
_MAX_SPELLINGS = 64
_WHOLE_WORD_BELOW = 6
MIN_LENGTH = 3
"""Values (after stripping spaces) shorter than this are not searched at all."""
MIN_PART = 3
"""Parts of names, e-mail local parts and address words shorter than this are not searched."""

# Boundary kinds, checked on the folded text around a match. TEXT is for short words: the
# neighbours must be space, punctuation or control characters, and the match must lie outside
# opaque data (pixel, overlay, curve and waveform values, compressed streams, binary files),
# where three letters turn up by chance every few hundred kilobytes.
LETTER, DIGIT, UID_START, TEXT = "letter", "digit", "uid", "text"


@dataclass(frozen=True)
class _Form:
    text: str  # folded literal, or a regular expression when `regex`
    left: str | None = None
    right: str | None = None
    regex: bool = False


def _forms(value: str, kind: str) -> list[_Form]:
    if len(value.strip()) < MIN_LENGTH:
        return []
    return _FORM_BUILDERS.get(kind, _text_forms)(value)


def _written(text: str) -> set[str]:
    """`text` as it could be written: cased, spelled out, decomposed, escaped."""
    variants = {text, text.lower(), text.upper()}
    lower = text.lower()
    choices = [(char, _SPELLED[char]) if char in _SPELLED else (char,) for char in lower]
    variants.update(
        "".join(c) for c in itertools.islice(itertools.product(*choices), _MAX_SPELLINGS)
    )
    if not lower.isascii():
        for cased in (text, lower, text.upper()):
            variants.add(unicodedata.normalize("NFD", cased))
            variants.add("".join(f"\\u{ord(c):04x}" if ord(c) > 127 else c for c in cased))
            variants.add("".join(f"&#{ord(c)};" if ord(c) > 127 else c for c in cased))
            variants.add("".join(f"&#x{ord(c):x};" if ord(c) > 127 else c for c in cased))
            variants.add(
                "".join(f"&{_ENTITIES.get(c.lower(), c)};" if ord(c) > 127 else c for c in cased)
            )
            variants.add(
                "".join(
                    "".join(f"%{b:02X}" for b in c.encode()) if ord(c) > 127 else c for c in cased
                )
            )
    return variants


def _encoded(text: str) -> set[str]:
    """The folded forms of `text` written as ASCII, Latin-1 or UTF-8."""
    found = set()
    for variant in _written(text):
        for encoding in ("latin-1", "utf-8"):
            try:
                found.add(_fold(variant.encode(encoding)))
            except UnicodeEncodeError:
                continue
    return found


def _literal(text: str, left: str | None = None, right: str | None = None) -> list[_Form]:
    return [_Form(form, left, right) for form in _encoded(text)]


def _word(part: str) -> list[_Form]:
    if len(part) < _WHOLE_WORD_BELOW:
        return _literal(part, TEXT, TEXT)
    return _literal(part)


def _searchable(part: str) -> bool:
    return len(part) >= MIN_PART and part.lower() not in COMMON_WORDS


def _digits(text: str, left: str | None = DIGIT, right: str | None = DIGIT) -> _Form:
    return _Form(text, left, right)


def _person_forms(value: str) -> list[_Form]:
    found = _word(value)
    for group in filter(None, value.split("=")):
        family, _, rest = group.partition("^")
        given = rest.replace("^", " ").strip()
        if family and given:
            for ordered in (f"{given} {family}", f"{family}, {given}", f"{family} {given}"):
                found += _literal(ordered)
        for part in re.split(r"[\^\s\-,.]+", group):
            if _searchable(part):
                found += _word(part)
    return found


def _personnummer_forms(value: str) -> list[_Form]:
    digits = re.sub(r"\D", "", value)
    if len(digits) != 12:
        return _text_forms(value)
    century, short, serial = digits[:2], digits[2:8], digits[8:]
    long_forms = [f"{century}{short}{sep}{serial}" for sep in ("", "-", " ")]
    short_forms = [f"{short}{sep}{serial}" for sep in ("", "-", "+", " ")]
    return [_digits(form) for form in long_forms + short_forms]


def _date_forms(value: str) -> list[_Form]:
    digits = re.sub(r"\D", "", value)
    if len(digits) != 8:
        return _text_forms(value)
    year, month, day = digits[:4], digits[4:6], digits[6:]
    # YYYYMMDD may start a DT value (YYYYMMDDHHMMSS), so nothing is required after it.
    found = [_digits(f"{year}{month}{day}", right=None), _digits(f"{year[2:]}{month}{day}")]
    for sep in "-./":
        found += [
            _digits(f"{year}{sep}{month}{sep}{day}"),
            _digits(f"{day}{sep}{month}{sep}{year}"),
        ]
    return found


def _phone_forms(value: str) -> list[_Form]:
    digits = re.sub(r"\D", "", value)
    if digits.startswith("46"):
        digits = digits[2:]
    national = digits.lstrip("0")
    if len(national) < 6:
        return _text_forms(value)
    return [_Form(r"[\s\-./()]{0,3}".join(national), right=DIGIT, regex=True)]


def _email_forms(value: str) -> list[_Form]:
    local = value.partition("@")[0]
    found = _literal(value)
    if _searchable(local):
        found += _word(local)
    return found


def _phrase_forms(value: str) -> list[_Form]:
    found = _literal(value)
    for part in re.split(r"[\s,]+", value):
        if part.isalpha() and len(part) >= 5 and part.lower() not in COMMON_WORDS:
            found += _word(part)
    for code in re.findall(r"\b\d{3}\s?\d{2}\b", value):
        compact = code.replace(" ", "")
        found += [_digits(compact), _digits(f"{compact[:3]} {compact[3:]}")]
    street = re.match(r"\s*([^\W\d_]+\s+\d+\s*[A-Za-z]?)\b", value)
    if street:
        found += _literal(street.group(1))
    return found


def _identifier_forms(value: str) -> list[_Form]:
    found = _word(value)
    found += [_digits(run) for run in re.findall(r"\d{6,}", value)]
    return found


def _uid_forms(value: str) -> list[_Form]:
    return [_Form(value.strip(), UID_START, DIGIT)]


def _text_forms(value: str) -> list[_Form]:
    return _word(value.strip()) if len(value.strip()) >= MIN_LENGTH else []


_FORM_BUILDERS: dict[str, Callable[[str], list[_Form]]] = {
    "person": _person_forms,
    "personnummer": _personnummer_forms,
    "date": _date_forms,
    "phone": _phone_forms,
    "email": _email_forms,
    "phrase": _phrase_forms,
    "identifier": _identifier_forms,
    "uid": _uid_forms,
    "text": _text_forms,
}
KINDS = tuple(_FORM_BUILDERS)
"""The kinds of :class:`Needle`."""


# Searching.

_Rule = tuple[str, str | None, str | None]  # needle key, left boundary, right boundary


class _Matcher:
    """One compiled pattern for all needles; boundaries are checked per match."""

    def __init__(self, needles: Iterable[Needle], skipped: list[Needle]) -> None:
        self.literals: dict[str, list[_Rule]] = {}
        self.regexes: list[tuple[re.Pattern[str], _Rule]] = []
        # Matches are kept apart per needle, not per category: one category (an element)
        # may hold several values, and a match of one must not hide another overlapping it.
        self.category_of: dict[str, str] = {}
        for index, needle in enumerate(needles):
            key = str(index)
            found = _forms(needle.value, needle.kind)
            if not found:
                skipped.append(needle)
                continue
            self.category_of[key] = needle.category
            for form in found:
                rule = (key, form.left, form.right)
                if form.regex:
                    self.regexes.append((re.compile(form.text), rule))
                elif rule not in self.literals.setdefault(form.text, []):
                    self.literals[form.text].append(rule)
        branches = _trie_branches(self.literals)
        branches += [pattern.pattern for pattern, _ in self.regexes]
        self.pattern = re.compile("|".join(branches), re.DOTALL) if branches else None

    def scan(
        self, data: bytes, path: Path, stream: str = "", dataset: bool = False
    ) -> list[Finding]:
        leaks: list[Finding] = []
        if self.pattern is None:
            return leaks
        opaque = _Opaque(data, dataset)
        little_endian: set[tuple[str, int]] = set()
        for view, text, offset_of in _views(data):
            covered: dict[str, int] = {}
            position = 0
            while match := self.pattern.search(text, position):
                position = match.start() + 1
                offset = offset_of(match.start())
                for key, length in self._accept(text, match, not opaque.covers(offset)):
                    if covered.get(key, -1) > match.start():
                        continue
                    covered[key] = match.start() + length
                    if view == "utf-16-le":
                        little_endian.add((key, offset))
                    elif view == "utf-16-be" and (key, offset + 1) in little_endian:
                        continue  # "c\0c\0" read from one byte earlier: the same text
                    form = _original(data, view, offset, length)
                    category = self.category_of[key]
                    leaks.append(Finding(path, category, form, view, offset, stream))
        for inner_stream, inner in _inner_streams(data):
            label = f"{stream}/{inner_stream}" if stream else inner_stream
            leaks.extend(self.scan(inner, path, label, inner_stream == _INFLATED))
        return leaks

    def _accept(self, text: str, match: re.Match[str], in_text: bool) -> Iterator[tuple[str, int]]:
        """Needles whose boundaries hold for this match (or for a shorter prefix of it)."""
        start, matched = match.start(), match.group()
        accepted: set[str] = set()
        for pattern, rule in self.regexes:
            hit = pattern.match(text, start)
            if hit and rule[0] not in accepted and _bounded(text, start, hit.end(), rule):
                accepted.add(rule[0])
                yield rule[0], hit.end() - start
        for length in range(len(matched), 0, -1):
            for rule in self.literals.get(matched[:length], ()):
                if rule[1] == TEXT and not in_text:
                    continue
                if rule[0] not in accepted and _bounded(text, start, start + length, rule):
                    accepted.add(rule[0])
                    yield rule[0], length


def _bounded(text: str, start: int, end: int, rule: _Rule) -> bool:
    _, left, right = rule
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    return _outside(before, left, True) and _outside(after, right, False)


def _outside(char: str, boundary: str | None, before: bool) -> bool:
    if not char or boundary is None:
        return True
    if boundary == LETTER:
        return not char.isalpha()
    if boundary == TEXT:
        return ord(char) < 0x20 or char in _SEPARATORS
    if boundary == UID_START and before:
        return not (char.isdigit() or char == ".")
    return not char.isdigit()


_Trie = dict[str, "_Trie"]


def _trie_branches(words: dict[str, list[_Rule]]) -> list[str]:
    """Top-level alternatives of a trie regex: each starts with a literal character."""
    trie: _Trie = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: _Trie) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        if len(branches) == 1 and "" not in node:
            return branches[0]
        group = "(?:" + "|".join(branches) + ")"
        return group + "?" if "" in node else group

    return [re.escape(char) + build(child) for char, child in sorted(trie.items()) if char]


def _views(data: bytes) -> Iterator[tuple[str, str, Callable[[int], int]]]:
    """Folded text views of `data` and how to turn a view index into a byte offset."""
    yield "bytes", _fold(data), _identity
    if len(data) < 2 or b"\x00" not in data:
        return
    raw = np.frombuffer(data, dtype=np.uint8)
    for order in ("le", "be"):
        for start in (0, 1):
            pairs = raw[start : start + (len(raw) - start) // 2 * 2].reshape(-1, 2)
            low, high = (pairs[:, 0], pairs[:, 1]) if order == "le" else (pairs[:, 1], pairs[:, 0])
            # Code units above U+00FF cannot be part of a form; \x01 stands in for them.
            units = np.where(high == 0, low, 1).astype(np.uint8).tobytes()
            yield f"utf-16-{order}", _fold(units), _Utf16Offsets(start)


def _identity(index: int) -> int:
    return index


class _Utf16Offsets:
    def __init__(self, start: int) -> None:
        self.start = start

    def __call__(self, index: int) -> int:
        return self.start + 2 * index


def _original(data: bytes, view: str, offset: int, length: int) -> str:
    """The matched bytes as written, for the report."""
    if view == "bytes":
        chunk = data[offset : offset + length]
        try:
            return chunk.decode("utf-8")
        except UnicodeDecodeError:
            return chunk.decode("latin-1")
    return data[offset : offset + 2 * length].decode(view, errors="replace")


_SEPARATORS = frozenset(" !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_DEFLATED = b"1.2.840.10008.1.2.1.99"
_INFLATED = "deflated dataset"
_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/]{16,}={0,2}")


def _inner_streams(data: bytes) -> Iterator[tuple[str, bytes]]:
    """Compressed or encoded content inside `data`, decoded."""
    if data[128:132] == b"DICM":
        inflated = _inflate_dicom(data)
        if inflated is not None:
            yield _INFLATED, inflated
    if data[:2] == b"\x1f\x8b":
        yield from _gunzip(data)
    if data[:4] == b"PK\x03\x04":
        yield from _unzip(data)
    if b"\x00" not in data[:8192]:
        for match in _BASE64_RUN.finditer(data):
            try:
                decoded = base64.b64decode(match.group(), validate=True)
            except (binascii.Error, ValueError):
                continue
            yield f"base64@{match.start()}", decoded


def _gunzip(data: bytes) -> list[tuple[str, bytes]]:
    try:
        return [("gzip", gzip.decompress(data))]
    except (OSError, EOFError, zlib.error):
        return []


def _unzip(data: bytes) -> list[tuple[str, bytes]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [(f"zip:{member}", archive.read(member)) for member in archive.namelist()]
    except (zipfile.BadZipFile, OSError, zlib.error):
        return []


def _deflated_start(data: bytes) -> int | None:
    """Where the deflated dataset of a Deflated Explicit VR Little Endian file starts."""
    position = 132
    if data[128:132] != b"DICM" or data[position : position + 6] != b"\x02\x00\x00\x00UL":
        return None
    group_length = int.from_bytes(data[position + 8 : position + 12], "little")
    end = position + 12 + group_length
    return end if _DEFLATED in data[position:end] else None


def _inflate_dicom(data: bytes) -> bytes | None:
    """The dataset of a Deflated Explicit VR Little Endian file, inflated (PS3.5 A.5)."""
    start = _deflated_start(data)
    if start is None:
        return None
    try:
        return zlib.decompressobj(-zlib.MAX_WBITS).decompress(data[start:])
    except zlib.error:
        return None


# Float, Double Float and Pixel Data, Waveform Data; (60xx,3000) and (50xx,3000) by group.
_BULK_TAGS = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010, 0x54001010})


class _Opaque:
    """Byte ranges of `data` where short words are not searched (see TEXT)."""

    def __init__(self, data: bytes, dataset: bool) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        regions = self._regions(data, dataset)
        for start, end in sorted(regions):
            self.starts.append(start)
            self.ends.append(end)

    def covers(self, offset: int) -> bool:
        index = bisect.bisect_right(self.starts, offset) - 1
        return index >= 0 and offset < self.ends[index]

    @staticmethod
    def _regions(data: bytes, dataset: bool) -> list[tuple[int, int]]:
        whole = [(0, len(data))]
        if dataset or data[128:132] == b"DICM":
            deflated = _deflated_start(data) if not dataset else None
            regions = _bulk_values(data, dataset)
            return regions + ([(deflated, len(data))] if deflated is not None else [])
        if data[:2] == b"\x1f\x8b" or data[:4] == b"PK\x03\x04":
            return whole
        head = data[:8192]
        return whole if b"\x00" in head and not _utf16_text(head) else []


def _utf16_text(head: bytes) -> bool:
    """Whether `head` reads as UTF-16 text: a byte order mark, or every other byte zero."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return True
    even = head[: len(head) // 2 * 2]
    return len(even) >= 4 and (not any(even[0::2]) or not any(even[1::2]))


def _bulk_values(data: bytes, dataset: bool) -> list[tuple[int, int]]:
    """Pixel, overlay, curve and waveform values of a DICOM file or bare dataset."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if dataset:
                ds = read_dataset(io.BytesIO(data), is_implicit_VR=False, is_little_endian=True)
            else:
                ds = dcmread(io.BytesIO(data), force=True)
            elements = list(_raw_elements(ds))
    except Exception:  # an unreadable file is searched whole; short words may then over-report
        return []
    return [
        (element.value_tell, element.value_tell + len(element.value))
        for element in elements
        if isinstance(element.value, bytes)
        and element.value_tell is not None
        and (
            element.tag in _BULK_TAGS
            or ((element.tag >> 16) & 0xFF00 in (0x5000, 0x6000) and element.tag & 0xFFFF == 0x3000)
        )
    ]


def _raw_elements(ds: Dataset) -> Iterator[RawDataElement]:
    """Top-level raw elements and those in Waveform Sequence items, as read."""
    for tag in list(ds.keys()):
        element = ds.get_item(tag, keep_deferred=True)
        if isinstance(element, RawDataElement):
            yield element
    for item in ds.get("WaveformSequence") or []:
        for tag in list(item.keys()):
            element = item.get_item(tag, keep_deferred=True)
            if isinstance(element, RawDataElement):
                yield element
