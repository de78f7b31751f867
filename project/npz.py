"""Arrays stored as numpy's .npz (a zip of .npy files): binary, exact, never pickled, the same bytes everywhere.

numpy's own ``savez`` stamps each member with the time of writing; this writes the same format with
a fixed date, members in sorted order, uncompressed, little-endian: the same arrays give the same
bytes on every machine, so DVC's hashes and the committed dvc.lock hold across a team. Any .npz
reader (``numpy.load(path, allow_pickle=False)``) reads it.

Reading checks the archive before numpy allocates anything: every member a plain .npy of a number,
boolean or text dtype (never an object array, which is what pickle would carry), uncompressed (no
zip bomb), its header's shape matching its size, and the whole within ``max_bytes``.
"""

import io
import re
import zipfile

import numpy as np

FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip can hold
MEMBER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]{0,199}")


class NotOurArchive(ValueError):
    """A file that is not an .npz this project writes (or could read safely)."""


def _portable(value):
    array = np.asarray(value)
    if array.dtype.kind == "f":
        return array.astype("<f8")
    if array.dtype.kind in "iu":
        return array.astype("<i8")
    if array.dtype.kind in "bU":
        return array.astype(array.dtype.newbyteorder("<")) if array.dtype.kind == "U" else array
    raise TypeError(f"cannot store an array of dtype {array.dtype} (numbers, booleans and text only)")


def write_npz(handle, arrays):
    """Write {name: array or number} to the binary file object ``handle`` as a reproducible .npz."""
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name in sorted(arrays):
            if not MEMBER.fullmatch(name):
                raise ValueError(f"{name!r} cannot name an array in a .npz (letters, digits, _ . / - only)")
            info = zipfile.ZipInfo(f"{name}.npy", date_time=FIXED_DATE)
            info.compress_type, info.external_attr, info.create_system = zipfile.ZIP_STORED, 0o644 << 16, 3
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, _portable(arrays[name]), allow_pickle=False)


def read_npz(path, max_bytes):
    """{name: array} of the .npz at ``path``, checked first (NotOurArchive if it is not one we could have written)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as error:
        raise NotOurArchive(f"not a .npz file ({error})") from None
    arrays, total = {}, 0
    with archive:
        for info in archive.infolist():
            name = info.filename
            if not name.endswith(".npy") or not MEMBER.fullmatch(name[:-4]) or name[:-4] in arrays:
                raise NotOurArchive(f"a member {name[:60]!r} that is no array of a model")
            if info.compress_type != zipfile.ZIP_STORED or info.file_size != info.compress_size:
                raise NotOurArchive(f"member {name!r} is compressed, which this project never writes")
            total += info.file_size
            if total > max_bytes:
                raise NotOurArchive(f"more than the {max_bytes:,} bytes a model of this size holds")
            with archive.open(info) as member:
                arrays[name[:-4]] = _read_array(member, info.file_size, name)
    return arrays


def _read_array(member, size, name):
    try:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(member, max_header_size=10_000)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(member, max_header_size=10_000)
        else:
            raise ValueError(f"format version {version}")
        if dtype.hasobject or dtype.kind not in "fiubU":
            raise ValueError(f"dtype {dtype}, which only pickle could carry")
        expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if expected != size - member.tell():
            raise ValueError(f"its header says {expected:,} bytes, the file holds {size - member.tell():,}")
        data = member.read()
    except (ValueError, OSError, EOFError, SyntaxError) as error:
        raise NotOurArchive(f"member {name!r} is not a .npy array we could have written ({error})") from None
    array = np.frombuffer(data, dtype=dtype)
    return array.reshape(shape, order="F" if fortran else "C").copy()


def npz_bytes(arrays):
    """The .npz of ``arrays`` as bytes (small archives, tests)."""
    buffer = io.BytesIO()
    write_npz(buffer, arrays)
    return buffer.getvalue()
