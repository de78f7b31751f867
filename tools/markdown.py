"""Data as text a person reads: in GitHub's Markdown, in Mermaid's charts, on one line of a terminal.

A value a tool did not write itself (a column name, a params value, a path, a revision or model
name) is shown through ``code()``: as typed, never as HTML, a link, an image, a mention or a table
cell break. The tool's own prose goes through ``plain()`` or ``sentence()``, a chart's strings
through ``mermaid_text()``. A comment too long for GitHub is made of ``Part``s that ``fit()``
shortens, saying what it left out. Used by tools/report.py and tools/sweep/.
"""

import json
import math
import re
import string
import unicodedata

COMMENT_LIMIT = 65_536  # GitHub's limit on a comment's body; counted here in UTF-8 bytes, never fewer than characters
SHOWN_CHARACTERS = 120  # a value from data longer than this is cut in the report (the files keep it whole)


# ---- data as text: Markdown and Mermaid ------------------------------------------------------

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Control, format (bidi marks, zero-width), separator, private and unassigned characters, and every
# space but the plain one: shown as an escape, so nothing invisible reorders or hides what a reviewer reads.
_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"}


def visible(text):
    """``text`` with every character that would not show as itself written as an escape (``\\n``, ``\\u202e``)."""
    return "".join(_NAMED.get(char) or (f"\\u{ord(char):04x}" if char != " " and unicodedata.category(char)
                                        in _HIDDEN else char) for char in text)


def one_line(text, limit=300):
    """``text`` on one line of a terminal (each run of white space one space), cut after ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "…"


def code(value, cell=True, limit=SHOWN_CHARACTERS):
    """Data as a Markdown code span: the one way a tool shows a value it did not write itself.

    Shown as typed, never as HTML, a link, an image, a mention, an issue reference or an emoji
    (GitHub does none of those inside code), nor as a line break (newlines and bidi marks are shown
    as escapes) or a table cell break: in a table cell (``cell``) a ``|`` is written ``\\|``, which
    GitHub's tables read as a pipe inside the cell. The fence is one backtick longer than any run in
    the value. A value longer than ``limit`` is cut, saying by how much (``limit=None``: never cut).
    """
    text = visible(str(value))
    if limit is not None and len(text) > limit:
        text = f"{text[:limit]}…(+{len(text) - limit} characters)"
    if not text:
        return "*(empty)*"
    if cell:
        text = text.replace("|", "\\|")
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    # CommonMark strips one space from each end of a span that has one at both: pad so that it strips ours.
    both_ends_space = text[0] == " " and text[-1] == " " and text.strip()
    pad = " " if text[0] == "`" or text[-1] == "`" or both_ends_space else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_MARKUP = re.compile(r"([\\`*_\[\]<>!|#&~@])")


def plain(text):
    """The report's own prose (a gate's sentence from tools/gates.py) with every Markdown character escaped."""
    return _MARKUP.sub(r"\\\1", visible(str(text)))


def sentence(text, names):
    """A sentence the project wrote (a gate line), with the model ``names`` in it shown as data (``code``)."""
    names = sorted({name for name in names if name}, key=len, reverse=True)
    if not names:
        return plain(text)
    pattern = "|".join(rf"(?<![\w`]){re.escape(name)}(?![\w`])" for name in names)
    parts = re.split(f"({pattern})", text)
    return "".join(code(part, cell=False) if i % 2 else plain(part) for i, part in enumerate(parts))


_MERMAID_KEPT = frozenset(string.ascii_letters + string.digits + " _.,:()+-/=")


def mermaid_text(value, limit=60):
    """A Mermaid string literal holding ``value`` as text: every character but letters, digits and
    `` _.,:()+-/=`` written as Mermaid's ``#<code>;`` entity, so no quote, newline, ``%%`` directive,
    bracket, backtick, semicolon or markup reaches Mermaid's parser or GitHub's code fence."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return '"' + "".join(
        char if char in _MERMAID_KEPT or (ord(char) > 127 and unicodedata.category(char)[0] in "LN")
        else f"#{ord(char)};" for char in text) + '"'


def mermaid_number(value):
    """A number as Mermaid's charts read it: 4 significant digits, never an exponent, so never more than
    a few characters for the values charts pass (tools/charts.py scales them near 1): below 0.0001 is 0,
    and beyond 10**15 is held there."""
    import numpy as np

    if not math.isfinite(value) or abs(value) < 1e-4:
        return "0"
    value = max(-1e15, min(1e15, float(value)))
    return np.format_float_positional(value, precision=4, unique=False, fractional=False, trim="-")


def mermaid_block(lines, palette):
    """A ```mermaid block: the chart's ``lines`` and its series' colours (hex from stages/style.py)."""
    colors = ", ".join(color if re.fullmatch("#[0-9a-fA-F]{6}", color) else "#777777" for color in palette)
    init = json.dumps({"themeVariables": {"xyChart": {"plotColorPalette": colors}}})
    return "\n".join(["```mermaid", f"%%{{init: {init}}}%%", *lines, "```"])


# ---- numbers as the report writes them: never more than a dozen characters -----------------------

LARGE = 1e6  # from here up a number is written with an exponent (1.00e+308, not 309 digits)


def number(value, sign="", digits=3):
    """Three significant digits, kept (46.0, not 46); whole numbers from 1000 up; an exponent from a
    million up and below 0.0001 (1.00e-300, never 300 zeros); '–' for None."""
    if value is None:
        return "–"
    if isinstance(value, int) and not isinstance(value, bool):
        value = _float(value)
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return f"{value:{sign}}"
    if abs(value) >= LARGE:
        return f"{value:{sign}.{digits - 1}e}"
    if abs(value) >= 10 ** digits:
        return f"{value:{sign},.0f}"
    return f"{value:{sign}#.{digits}g}".rstrip(".")


def fixed(value, decimals=3, sign=""):
    """``decimals`` decimals (5.950), or ``number``'s exponent where that would be long (1e308, 1e-300)."""
    if value is None:
        return "–"
    if value != 0 and math.isfinite(value) and not 10 ** -decimals <= abs(value) < LARGE:
        return number(value, sign)
    return f"{value:{sign}.{decimals}f}"


def share(value, decimals=2, sign="+"):
    """A share as a percentage, ``+14.62%``; beyond ±10,000 % with an exponent (``+1.00e+302%``)."""
    if value is None:
        return "–"
    if math.isfinite(value) and abs(value) >= 100:
        return f"{value * 100:{sign}.2e}%"
    return f"{value:{sign}.{decimals}%}"


def _float(value):
    """An int as a float; one too large for a float is infinity (its digits are never printed)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def interval(value, low, high, sign=""):
    """'value [low, high]', or the value alone when there is no interval."""
    if low is None or high is None:
        return number(value, sign)
    return f"{number(value, sign)} [{number(low, sign)}, {number(high, sign)}]"


def percent(confidence):
    return f"{confidence * 100:g} %"


# ---- a comment within GitHub's limit ---------------------------------------------------------

def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def folded(summary, *body):
    """The parts of a <details> block: ``summary`` (the report's own words), then ``body`` (text or Parts)."""
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>", ""]


class Part:
    """A part of a comment that may be shortened to fit: ``render(items)`` of its first items.

    ``cut`` items are left out from the end and a note says how many, and where to see them all.
    """

    def __init__(self, items, render, hint):
        self.items, self.render_items, self.hint, self.keep = list(items), render, hint, None

    def render(self):
        if self.keep is None or self.keep >= len(self.items):
            return self.render_items(self.items)
        left = len(self.items) - self.keep
        note = (f"*{left} of {len(self.items)} left out to keep this comment within GitHub's "
                f"{COMMENT_LIMIT:,} characters; {self.hint}.*")
        return "\n\n".join(([self.render_items(self.items[:self.keep])] if self.keep else []) + [note])

    def shorten(self):
        """Halve what it shows; False when it already shows nothing."""
        shown = len(self.items) if self.keep is None else self.keep
        if shown == 0:
            return False
        self.keep = shown // 2
        return True


def size(text):
    return len(text.encode("utf-8"))


def fit(parts, limit):
    """The parts joined, the largest cut part by part until the text fits ``limit`` bytes (a hard cut last)."""
    def joined():
        return "\n".join(part if isinstance(part, str) else part.render() for part in parts)

    text = joined()
    shortenable = [part for part in parts if isinstance(part, Part)]
    while size(text) > limit and shortenable:
        largest = max(shortenable, key=lambda part: size(part.render()))
        if not largest.shorten():
            shortenable.remove(largest)
            continue
        text = joined()
    return text if size(text) <= limit else hard_cut(text, limit)


def hard_cut(text, limit):
    """The text cut at a line to fit ``limit``, closing an open code fence and <details>, saying so."""
    note = f"\n*The rest of this report is left out: it would exceed GitHub's {COMMENT_LIMIT:,} characters.*\n"
    kept, used, fenced, depth = [], 0, False, 0
    for line in text.splitlines():
        closing = ("```\n" if fenced else "") + "\n</details>\n" * depth
        if used + size(line) + 1 + size(closing) + size(note) + 16 > limit:
            break
        kept.append(line)
        used += size(line) + 1
        fenced = fenced != line.startswith("```")
        if not fenced:
            depth += (line == "<details>") - (line == "</details>")
    tail = (["```"] if fenced else []) + ["", "</details>"] * depth
    return "\n".join(kept + tail) + "\n" + note
