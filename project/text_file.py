"""A data file's bytes, if it is UTF-8 text; else one UserError naming what it is instead.

Reads bytes, not assumptions: UTF-8 with or without a byte-order mark; anything else (another
encoding, UTF-16 or UTF-32, a compressed or binary file, a directory, a device) is named as what it
is, with the line and column of the first byte that is not UTF-8.
"""

import os
import stat

from project.errors import UserError

MAGIC = (  # leading bytes -> what the file is
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"PK\x03\x04", "a zip archive (or an Excel .xlsx workbook)"),
    (b"BZh", "a bzip2-compressed file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls (OLE) file"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"PAR1", "a Parquet file"),
    (b"\x7fELF", "a compiled program (ELF)"),
)
BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"),
)
UTF8_BOM = b"\xef\xbb\xbf"


def _open_regular(path):
    """Refuse what is not a regular file before reading it (a directory, /dev/null, a pipe)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise UserError(f"{path}: file not found; point data.csv in params.yaml at your CSV") from None
    if stat.S_ISDIR(info.st_mode):
        raise UserError(f"{path}: is a directory, not a CSV file; point data.csv at the file itself")
    if not stat.S_ISREG(info.st_mode):
        kind = ("a character device (like /dev/null)" if stat.S_ISCHR(info.st_mode)
                else "a named pipe" if stat.S_ISFIFO(info.st_mode) else "not a regular file")
        raise UserError(f"{path}: is {kind}, not a CSV file; point data.csv at your CSV")


def read_utf8(path):
    """The file's bytes, past a UTF-8 byte-order mark, checked to be UTF-8 text (UserError if not)."""
    _open_regular(path)
    with open(path, "rb") as handle:
        data = handle.read()
    if not data.strip():
        raise UserError(f"{path}: the file is empty")
    for mark, encoding in BOMS:
        if data.startswith(mark):
            raise UserError(f"{path}: is {encoding} text (its first bytes are a {encoding} byte-order mark); "
                            "save the file as UTF-8")
    for magic, kind in MAGIC:
        if data.startswith(magic):
            raise UserError(f"{path}: is {kind}, not a text CSV; extract or export it as a UTF-8 CSV")
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
    nul = data.find(b"\x00")  # anywhere: memchr reads 100 MB in milliseconds
    if nul >= 0:
        head = data[:1 << 12]
        if head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4:
            raise UserError(f"{path}: looks like UTF-16 text without a byte-order mark (every other byte is 0); "
                            "save the file as UTF-8")
        line = data.count(b"\n", 0, nul) + 1
        raise UserError(f"{path}: is a binary file, not a text CSV (a NUL byte on line {line}); "
                        "point data.csv at a comma-separated text file")
    if not data.isascii():  # the common case, ASCII, needs no decoding
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            start = data.rfind(b"\n", 0, error.start) + 1
            line = data.count(b"\n", 0, error.start) + 1
            column = len(data[start:error.start].decode("utf-8", errors="replace")) + 1
            raise UserError(f"{path}: line {line} is not UTF-8 (byte 0x{data[error.start]:02x} at column "
                            f"{column}); save the file as UTF-8") from None
    return data
