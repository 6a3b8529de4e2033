"""A text file a user made, read whole: the decoding a spreadsheet's saved file needs, and
the one-line refusals when it is not text at all.

A UTF-8 byte-order mark (Excel's "CSV UTF-8") and UTF-16 with its mark are read as such;
anything else that is not UTF-8 is read as Windows-1252 (latin-1), since a legacy Windows
export is by far the likeliest other encoding and every character it can hold is shown in a
bad value's message anyway. A file holding control characters (other than tab, CR and LF)
is binary, not text, and refused.

A CSV's separator is read from its header (:func:`csv_separator`): a comma, or the semicolon
Excel writes where the decimal mark is a comma; a header that splits both ways is refused
rather than guessed.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Collection
from pathlib import Path

from ..errors import ConfigError, check

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # not tab, CR or LF: binary, not text


def read_text(path: Path, key: str, max_bytes: int, what: str, empty_hint: str) -> str:
    """The text of the file at ``path``, for the setting ``key`` (named in every error).

    ``what`` names the kind of file in the refusal of one over ``max_bytes`` bytes; an empty
    file is refused with ``empty_hint`` (what the file should hold)."""
    check(path.is_file(), key, str(path), "no such file" if not path.exists() else "not a file")
    try:
        check(path.stat().st_size <= max_bytes, key, str(path),
              f"is larger than {max_bytes // 2**20} MiB: not {what}")
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(key, str(path), f"cannot be read ({exc.strerror or exc})") from None
    return decode_text(data, key, str(path), empty_hint)


def decode_text(data: bytes, key: str, shown_path: str, empty_hint: str) -> str:
    """``data`` as text: UTF-8 (with or without Excel's byte-order mark), UTF-16 with its
    byte-order mark, else Windows-1252; empty or binary data is refused."""
    check(data.strip() != b"", key, shown_path, f"the file is empty; {empty_hint}")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "cp1252")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        check(not _CONTROL.search(text), key, shown_path, "holds binary data, not text: save it as CSV UTF-8")
        return text
    raise ConfigError(key, shown_path, "is not text in UTF-8 or Windows-1252 (latin-1): save it as CSV UTF-8")


def csv_separator(text: str, name: str, known: Collection[str] = ()) -> str:
    """The separator of the CSV ``text``, as its header (the first line holding anything but
    separators and spaces) shows it: ``";"`` if the header splits into several names at
    semicolons and not at commas, else ``","``. A header that splits both ways is resolved
    by ``known`` (the column names the file may have) when the names of one split alone are
    all known, and otherwise refused in one line naming the file ``name``, the header's row
    and the header.

    >>> csv_separator("age_days;stage\\n12,5;allocation\\n", "queue.csv")
    ';'
    >>> csv_separator("age_days\\n12\\n", "queue.csv")
    ','
    """
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        if line.strip(" \t\r\n,;"):
            break
    else:
        return ","
    header, splits = line.rstrip("\r\n"), {}
    for separator in (",", ";"):
        try:
            splits[separator] = [field.strip() for field in next(csv.reader([header], delimiter=separator))]
        except (csv.Error, StopIteration):  # the CSV reader itself reports what is wrong with the line
            return ","
    if len(splits[";"]) == 1 or len(splits[","]) == 1:
        return ";" if len(splits[";"]) > 1 else ","
    all_known = [separator for separator, names in splits.items() if known and set(names) <= set(known)]
    if len(all_known) == 1:
        return all_known[0]
    raise ConfigError(f"{name} row {number}", shown(header, 80),
                      "the header splits into columns both at ',' and at ';': save the file with one separator "
                      "(Excel: CSV UTF-8, comma-separated)")


def shown(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters for a one-line message (its repr escapes the rest)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
