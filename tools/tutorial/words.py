"""Numbers, names and verdicts as the page writes them.

Numbers are written as docs/results.md writes them (tools/results/tables.py: three significant digits,
thousands grouped), and a verdict against the reference is the one its tables give, so the two pages
never say different things about the same run. A name from the data (a column, a params key or value)
is shown as a code span (tools/markdown.py), never as markup.
"""

import re

from tools.markdown import code
from tools.results.tables import interval, number, verdict

SIMPLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")


def name(text):
    """A column or params name from the data: a code span (never a link, an image or a table break)."""
    return code(text)


def signed(value, digits=3):
    return number(value, sign=True, digits=digits)


def score(row, digits=3):
    """'45.5 [28.3, 70.9]': a test MSE with its bootstrap interval."""
    return f"{number(row['mse'], digits=digits)} {interval(row['mse_low'], row['mse_high'], digits=digits)}"


def difference(row):
    """'-0.683 [-22.3, +14.3]': MSE minus the reference's, with its paired interval."""
    return f"{signed(row['vs_reference'])} {interval(row['vs_reference_low'], row['vs_reference_high'], sign=True)}"


def judged(row, reference_mse):
    """better, worse, within noise or same predictions: docs/results.md's verdict, without its bold."""
    return verdict(row, reference_mse).strip("*")


def ordinal(n):
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def whole(n):
    """A count: 1,209."""
    return f"{int(n):,}"


def share(part, total):
    """'78 %'."""
    return f"{100 * part / total:.0f} %" if total else "–"


def percent(confidence):
    return f"{confidence * 100:g} %"


def coefficient(value, digits=3):
    """A fitted coefficient: a whole number as one (random search's guesses are integers), else ``number``."""
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else number(value, digits=digits)


def formula(target, feature, k, b, digits=3):
    """'`MEDV` = 9.10·`RM` − 34.7'."""
    sign = "−" if b < 0 else "+"
    return f"{name(target)} = {coefficient(k, digits)}·{name(feature)} {sign} {coefficient(abs(b), digits)}"


def small(value):
    """A setting such as a step size as Python writes it, the exponent's leading zero dropped: 1e-6."""
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", f"{value:g}").replace("e+", "e")


def counted(n, noun, plural=None):
    """'1 row', '3 rows', '1,209 steps'."""
    return f"{whole(n)} {noun if n == 1 else plural or noun + 's'}"


def listing(names):
    """'a', 'a and b', 'a, b and c'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def value(setting):
    """A params value as YAML writes it: true, [RM], 0.01."""
    if isinstance(setting, bool):
        return "true" if setting else "false"
    if isinstance(setting, list):
        return "[" + ", ".join(value(item) for item in setting) + "]"
    return str(setting)


def fenced(language, lines):
    """A fenced block whose fence is longer than any run of backticks in ``lines`` (data cannot close it)."""
    text = "\n".join(lines)
    fence = "`" * max(3, max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows])


def picture(alt, path):
    """An image GitHub shows: alt text that says what the picture shows, a path relative to the page."""
    alt = re.sub(r"[\[\]\\]", "", alt)
    return f"![{alt}]({path})"
