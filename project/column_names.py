"""What a column name may be: one rule for the data file's header (load) and the splits' (every later stage).

A column name is data in every file the stages write (the splits, the plots' CSVs and JSON, the
report, the plots page), so a name is refused when it would be more than text there:

- markup (``<``, ``>``) or an invisible control: Unicode's control and format characters (line breaks,
  tabs, right-to-left marks, zero-width spaces) and its line and paragraph separators (U+2028, U+2029);
- a spreadsheet formula: a name that starts with ``=``, ``+``, ``-`` or ``@`` (OWASP's CSV-injection
  rule; ``＝`` and the other full-width forms too) is run, not shown, by the spreadsheet that opens a
  split or a plot's CSV. Refused, not escaped: an escaped name (``'=x``) would differ from the one
  params.yaml names;
- empty, padded with spaces, or longer than MAX_NAME_CHARS (what params.yaml's data.features holds);
- the same as another, or only *looking* the same: names are compared in Unicode's NFC form (an accent
  typed as one character or as a letter and a combining accent are one name; load writes NFC), and two
  names that differ only in look-alike characters (a Cyrillic ``М`` for a Latin ``M``, a non-breaking
  space, a minus sign for a hyphen) are refused as two columns nobody could tell apart.
"""

import unicodedata
from typing import NamedTuple

MAX_NAME_CHARS = 1000  # project/schema.py's ColumnName: the longest name params.yaml can ask for
MAX_HEADER_CHARS = 1 << 24  # a header line load writes, and the splits' reader reads, at most
FORMULA_STARTS = "=+-@"
UNSAFE_CATEGORIES = ("Cc", "Cf", "Zl", "Zp")  # controls, format characters, line and paragraph separators

# Characters that look like a Latin letter, digit or sign, and the one they look like (Unicode's
# confusables for the scripts a CSV header meets: Cyrillic, Greek, dashes, quotes, spaces).
_LOOKS_LIKE = {
    **dict(zip("АВЕКМНОРСТХУЅІЈҮԚԜ", "ABEKMHOPCTXYSIJYQW")),  # Cyrillic capitals
    **dict(zip("аеорсухѕіјһԁԛԝӏү", "aeopcyxsijhdqwly")),  # Cyrillic small letters
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX")),  # Greek capitals
    **dict(zip("οιρνκα", "oipvka")),  # Greek small letters
    **dict(zip("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63", "--------")),  # dashes, minus sign
    **dict(zip("\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f", "''''\"\"\"\"")),  # curly quotes
    **{chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)},  # full-width ASCII
}
_SKELETON = str.maketrans(_LOOKS_LIKE)


class Problem(NamedTuple):
    """The first thing wrong with a header: the 0-based ``position`` of the name, what is wrong (``kind``:
    empty, spaces, long, character, formula, form, twice, look-alike), the character at fault and the
    0-based position of the other name (twice, look-alike)."""

    position: int
    kind: str
    char: str = ""
    other: int = -1


def unsafe_character(name):
    """The first character of ``name`` that would be markup, an invisible control or a line break, or None."""
    return next((char for char in name if char in "<>" or unicodedata.category(char) in UNSAFE_CATEGORIES), None)


def formula_start(name):
    """The first character of ``name`` if a spreadsheet would read the name as a formula, else None."""
    if name and unicodedata.normalize("NFKC", name[0])[:1] in FORMULA_STARTS:
        return name[0]
    return None


def normal(name):
    """The name as load writes it: Unicode's NFC form."""
    return name if name.isascii() else unicodedata.normalize("NFC", name)


def skeleton(name):
    """What ``name`` looks like: equal skeletons, names a reader cannot tell apart."""
    if name.isascii():
        return name
    text = unicodedata.normalize("NFC", name).translate(_SKELETON)
    return "".join(" " if unicodedata.category(char) == "Zs" else char for char in text)


def describe(char):
    """One character as a message names it: ``'М' (U+041C CYRILLIC CAPITAL LETTER EM)``."""
    return f"{char!r} (U+{ord(char):04X} {unicodedata.name(char, 'unnamed')})"


def difference(name, other, other_is="the other"):
    """How two look-alike names differ, in words: the first pair of characters that differ."""
    a, b = unicodedata.normalize("NFC", name), unicodedata.normalize("NFC", other)
    if a == b:
        return "the same letters, one with an accent typed as a separate combining character (Unicode NFD)"
    if len(a) == len(b):
        first = next(index for index, (x, y) in enumerate(zip(a, b)) if x != y)
        return f"{describe(a[first])} where {other_is} has {describe(b[first])}"
    odd = next((char for char in a + b if not char.isascii()), a[0])
    return f"characters that look alike, e.g. {describe(odd)}"


def header_problem(names):
    """The first Problem of a header's names (a list of str, as load writes them: NFC), or None."""
    for position, name in enumerate(names):
        if len(name) > MAX_NAME_CHARS:
            return Problem(position, "long")
        unsafe = unsafe_character(name)
        if unsafe is not None:  # before the spaces: a tab or a line break is named as what it is
            return Problem(position, "character", unsafe)
        if not name.strip():
            return Problem(position, "empty")
        if name != name.strip():
            return Problem(position, "spaces")
        formula = formula_start(name)
        if formula is not None:
            return Problem(position, "formula", formula)
        if normal(name) != name:
            return Problem(position, "form")
    seen, looks = {}, {}
    for position, name in enumerate(names):
        if name in seen:
            return Problem(position, "twice", other=seen[name])
        seen[name] = position
        shape = skeleton(name)
        if shape in looks:
            return Problem(position, "look-alike", other=looks[shape])
        looks[shape] = position
    return None


def look_alike(name, names):
    """The one of ``names`` that ``name`` (not among them) looks the same as, or None."""
    shape = skeleton(name)
    return next((other for other in names if skeleton(other) == shape), None)
