"""One reader for user text: a file named on the command line, an upload, or a paste on a page.

    text = textinput.read_file("essay.txt")                          # a path (plain or .gz)
    data = textinput.read_bytes("cv.pdf", max_bytes=5_000_000)       # a path, for formats read otherwise
    text = textinput.decode(upload.name, upload.getvalue())          # an upload's bytes
    text = textinput.check_pasted(pasted, "The résumé", max_chars=40_000)  # a text box

Every reader refuses, with a ``NotText`` error (a ``ValueError``) whose message is a sentence for the user:
- binary content (a NUL byte, or more than 5 % control characters), always with ``binary_message(name)``,
  the one message used everywhere;
- text in another encoding than UTF-8, naming the first line that does not decode;
- an empty file, and content over the size limit (``max_bytes`` for files, ``max_chars`` for pastes).

No Streamlit here: the command line and the pages share it.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

MAX_BYTES = 10_000_000  # the default limit of a file or an upload
CONTROL_LIMIT = 0.05  # more control characters than this (a fraction of all bytes or characters) is binary
_TEXT_CONTROLS = b"\t\n\x0c\r"  # tab, newline, form feed, carriage return: text files have them
_CONTROLS = bytes(b for b in range(32) if b not in _TEXT_CONTROLS)
_NOT_CONTROLS = bytes(b for b in range(256) if b not in _CONTROLS)
_CONTROL_CHARS = {chr(b) for b in _CONTROLS}


class NotText(ValueError):
    """User input that is not usable text; the message says why and what to give instead."""


def binary_message(name: str) -> str:
    """The one message for binary content, wherever text was expected."""
    return f"{name} does not look like text (it has binary bytes): give plain text saved as UTF-8."


def looks_binary(data: bytes | str) -> bool:
    """A NUL, or more than ``CONTROL_LIMIT`` control characters (tab, newline, form feed and CR aside)."""
    if not data:
        return False
    if isinstance(data, str):
        if "\x00" in data:
            return True
        controls = sum(1 for c in data if c in _CONTROL_CHARS)
    else:
        if b"\x00" in data:
            return True
        controls = len(data.translate(None, delete=_NOT_CONTROLS))
    return controls > CONTROL_LIMIT * len(data)


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def check_size(name: str, size: int, max_bytes: int = MAX_BYTES) -> None:
    """Refuse an empty file and one over ``max_bytes`` (also for files that are read otherwise, such as PDFs)."""
    if size == 0:
        raise NotText(f"{name} is empty.")
    if size > max_bytes:
        raise NotText(f"{name} is {size:,} bytes, over the limit of {_size(max_bytes)}.")


def decode(name: str, data: bytes, max_bytes: int = MAX_BYTES) -> str:
    """The text of ``data`` (an upload's or a file's bytes), checked: not empty, not too big, not binary, UTF-8.

    A UTF-8 byte-order mark is dropped. ``name`` is how the messages call the input (a file name)."""
    check_size(name, len(data), max_bytes)
    if looks_binary(data):
        raise NotText(binary_message(name))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise NotText(_not_utf8(name, data, err)) from None


def _not_utf8(name: str, data: bytes, err: UnicodeDecodeError) -> str:
    start = err.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)  # utf-8-sig counts after the mark
    line_no = data.count(b"\n", 0, start) + 1
    begin = data.rfind(b"\n", 0, start) + 1
    end = data.find(b"\n", start)
    line = data[begin : end if end >= 0 else len(data)].decode("utf-8", errors="backslashreplace").strip()
    shown = line if len(line) <= 60 else line[:57] + "..."
    return (
        f"{name} is not UTF-8 text: line {line_no} has the byte 0x{data[start]:02x} ('{shown}'). "
        "Save it as UTF-8 (it may be Latin-1 or Windows-1252) and try again."
    )


def read_file(path: str | os.PathLike, max_bytes: int = MAX_BYTES, name: str | None = None) -> str:
    """The text of a file named by the user (plain, or gzip-compressed when it ends in ``.gz``), through
    ``decode``. Missing files, folders, unreadable and truncated files raise ``NotText`` too."""
    name = name or str(path)
    return decode(name, read_bytes(path, max_bytes, name), max_bytes)


def read_bytes(path: str | os.PathLike, max_bytes: int = MAX_BYTES, name: str | None = None) -> bytes:
    """The bytes of a file named by the user (decompressed when it ends in ``.gz``), at most ``max_bytes``;
    a missing, empty, unreadable or truncated file, or a folder, raises ``NotText``."""
    path = Path(path)
    name = name or str(path)
    try:
        if path.is_dir():
            raise NotText(f"cannot read {name}: it is a folder, not a file.")
        if path.exists() and not path.is_file():
            raise NotText(f"cannot read {name}: it is not a regular file.")
        if path.suffix.lower() == ".gz":
            with gzip.open(path, "rb") as f:
                data = f.read(max_bytes + 1)  # decompressed: a gzip bomb stops here
        else:
            check_size(name, path.stat().st_size, max_bytes)
            with open(path, "rb") as f:
                data = f.read(max_bytes + 1)
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:  # BadGzipFile is an OSError: before the next line
        raise NotText(f"cannot read {name}: it is not a complete gzip file ({err}).") from None
    except OSError as err:
        raise NotText(f"cannot read {name}: {err.strerror or err}") from None
    except ValueError as err:  # a path with a NUL in it, among others
        if isinstance(err, NotText):
            raise
        raise NotText(f"cannot read {name}: {err}") from None
    if len(data) > max_bytes:
        raise NotText(f"{name} is over the limit of {_size(max_bytes)} (uncompressed).")
    check_size(name, len(data), max_bytes)
    return data


def check_pasted(text: str | None, name: str = "The text", max_chars: int | None = None) -> str:
    """Text typed or pasted into a page, checked for binary content and length. Empty text is returned as it
    is: each page says in its own words what to type."""
    text = text or ""
    if max_chars is not None and len(text) > max_chars:
        raise NotText(f"{name} is {len(text):,} characters long; the limit is {max_chars:,}.")
    if looks_binary(text):
        raise NotText(binary_message(name))
    return text
