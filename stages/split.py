"""The split: the params' columns checked against the table, and the rows drawn for training and test.

The rows are scikit-learn's ``train_test_split(random_state=seed)`` split, drawn without importing
scikit-learn (a second of start-up). A column params.yaml names that the file lacks is said with the
name the user most likely meant: one that looks the same but is written with other characters (a
Cyrillic ``М`` in ``RM``, an accent typed as a combining character), else one that differs in case or
by a typo.
"""

import math

import numpy as np

from project.column_names import difference, look_alike, normal
from project.errors import UserError
from project.yamlfile import shown

MIN_TRAIN_ROWS, MIN_TEST_ROWS = 3, 2
LISTED_CHARS = 400  # "columns are: ..." lists the names up to about this many characters


def _listing(names):
    shown_names, size = [], 0
    for name in names:
        if size + len(name) > LISTED_CHARS and shown_names:
            return f"{', '.join(shown_names)}, … ({len(names):,} columns)"
        shown_names.append(name if len(name) <= 60 else name[:59] + "…")
        size += len(shown_names[-1]) + 2
    return ", ".join(shown_names)


def missing_column(path, column, key, names):
    """The line for a column params.yaml names (``key``) that the file's header (``names``) lacks."""
    said = f"{path}: no column {shown(column)} (from {key} in params.yaml"
    if normal(column) in names:
        return (f"{said}): the file's {shown(normal(column))} is the same name with its accent typed as one "
                "character (Unicode NFC), where params.yaml types a letter and a combining accent (NFD); retype "
                "the name in params.yaml")
    alike = look_alike(column, names)
    if alike is not None:
        return (f"{said}): the file's column {shown(alike)} looks the same but is another name: "
                f"{difference(alike, column, 'params.yaml')}; copy the name from the file into params.yaml, or "
                "rename the column")
    import difflib

    by_case = [name for name in names if name.lower() == column.lower()]
    close = by_case or difflib.get_close_matches(column, names, n=1, cutoff=0.6)
    hint = f"; did you mean {shown(close[0])}?" if close else ""
    return f"{said}{hint}); columns are: {_listing(names)}"


def _constant(values):
    return values.size > 0 and bool(np.all(values == values[0]))


def used_columns(data):
    """[(params key, column)] of the target and the features, the target first."""
    return [("data.target", data["target"])] + [("data.features", feature) for feature in data["features"]]


def check_columns(table, data):
    """The params' columns exist and vary, and the rows are enough for the split."""
    path, test_size = table.path, data["test_size"]
    for key, column in used_columns(data):
        if column not in table.index:
            raise UserError(missing_column(path, column, key, table.names))
    n = len(table)
    n_test = math.ceil(n * test_size)
    n_train = n - n_test
    if n_test < MIN_TEST_ROWS or n_train < MIN_TRAIN_ROWS:
        least = MIN_TRAIN_ROWS + MIN_TEST_ROWS
        advice = (f"use at least {least} rows" if n < least else
                  f"raise data.test_size to at least {MIN_TEST_ROWS / n:.2g}" if n_test < MIN_TEST_ROWS else
                  f"lower data.test_size to at most {1 - MIN_TRAIN_ROWS / n:.2g}")
        raise UserError(f"{path}: {n} data row{'s' * (n != 1)} with data.test_size = {test_size:g} split into "
                        f"{n_train} training and {n_test} test rows; need at least {MIN_TRAIN_ROWS} training "
                        f"and {MIN_TEST_ROWS} test rows: {advice}")
    for key, column in used_columns(data):
        values = table.column(column)
        if _constant(values):
            what = "there is nothing to predict" if key == "data.target" else \
                "drop it from data.features or choose a column that varies"
            raise UserError(f"{path}: column {shown(column)} ({key}) is constant (every row is {values[0]:g}); {what}")


def split_rows(n, test_size, seed):
    """(train, test) row indices: the very split of scikit-learn's train_test_split(random_state=seed)."""
    n_test = math.ceil(n * test_size)
    permutation = np.random.RandomState(seed).permutation(n)
    return permutation[n_test:], permutation[:n_test]


def check_training_split(table, data, train):
    """No column a model uses is constant on the training rows (a fit would divide by its zero spread)."""
    for key, column in used_columns(data):
        if _constant(table.column(column)[train]):
            raise UserError(f"{table.path}: the training split's {shown(column)} ({key}) is constant; "
                            "use more rows, another seed or a smaller data.test_size")
