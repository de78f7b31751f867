"""The split's facts and warnings: data that loads but would mislead is said, not refused.

A ``warning: load: ...`` line each (and ``--summary``'s JSON) for test rows that copy training rows,
more features than training rows, and values far outside the rest of their column; and what the
tutorial's exact lookup table does with the split. The facts read the columns the models use; only the
copy check reads every column, and only when some test row equals a training row on the used ones.
"""

import numpy as np

from project.table import number_text

# A value is far outside its column when it is more than FAR_SPREADS interquartile ranges from the
# column's median *and* more than FAR_GAP times farther from it than every value nearer in: the long
# tail of a skewed column (CRIM: up to 25 IQRs on the bundled data; a lognormal like it at 10^6 rows
# reaches 5,000-30,000 IQRs, each value at most ~4 times the next) is a continuum with no such gap;
# a typo like 1e45, a unit slip or a code like -9999 is not. Scale-free: units and origin do not matter.
FAR_SPREADS, FAR_GAP = 100.0, 100.0


def _row_hashes(columns):
    """One 64-bit hash per row of equal-length float columns, from their bits; equal rows, equal hashes."""
    hashes = np.zeros(len(columns[0]), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in columns:  # splitmix-style: xor in a column, multiply, fold the high bits down
            hashes ^= (column + 0.0).view(np.uint64)  # + 0.0: -0.0 and 0.0 are equal, so give them equal bits
            hashes *= np.uint64(0xBF58476D1CE4E5B9)
            hashes ^= hashes >> np.uint64(31)
    return hashes


def matching_rows(columns, train, test):
    """Which test rows equal a training row on every one of ``columns`` (float arrays, one per column),
    exactly: a mask over ``test``, and for each matching test row the first training row (in split
    order) it equals.

    Row hashes find the candidates with a sort and a merge (~0.1 s at 10^6 rows × 14 columns, a column
    at a time); each candidate is then compared with its training row value by value, and a hash
    collision (odds ~n²/2^64) falls back to a dictionary of whole rows as bytes.
    """
    hashes = _row_hashes(columns)
    train_hashes, test_hashes = hashes[train], hashes[test]
    ordered, query = np.sort(train_hashes), np.argsort(test_hashes)
    position = np.minimum(np.searchsorted(ordered, test_hashes[query]), len(ordered) - 1)
    hit = np.zeros(len(test), dtype=bool)
    hit[query] = ordered[position] == test_hashes[query]
    if not hit.any():
        return hit, np.empty(0, dtype=np.int64)
    wanted = np.sort(test_hashes[hit])
    candidates = np.flatnonzero(wanted[np.minimum(np.searchsorted(wanted, train_hashes), len(wanted) - 1)]
                                == train_hashes)  # the training rows with a wanted hash, in split order
    by_hash = candidates[np.argsort(train_hashes[candidates], kind="stable")]
    partner = train[by_hash[np.searchsorted(train_hashes[by_hash], test_hashes[hit])]]
    if all(np.array_equal(column[test[hit]], column[partner]) for column in columns):
        return hit, partner
    rows = np.column_stack(columns) + 0.0
    first = {rows[index].tobytes(): index for index in train[::-1]}  # the earliest in split order wins
    found = np.array([first.get(rows[index].tobytes(), -1) for index in test], dtype=np.int64)
    return found >= 0, found[found >= 0]


def far_values(column):
    """(rows, median, reach): the rows whose value is far outside the rest of the column, the
    column's median and how far from it the other values reach (see FAR_SPREADS and FAR_GAP)."""
    n = len(column)
    ordered = np.partition(column, sorted({(n - 1) // 2, n // 2, n // 4, (3 * n) // 4}))  # those order statistics only
    median = (ordered[(n - 1) // 2] + ordered[n // 2]) / 2
    spread = ordered[(3 * n) // 4] - ordered[n // 4]
    distance = np.abs(column - median)
    if spread == 0:  # most rows share one value (a 0/1 flag): measure against the others' distances
        others = np.sort(distance[distance > 0])
        spread = others[(len(others) - 1) // 2] if len(others) else 0.0
    beyond = distance > FAR_SPREADS * spread
    if spread == 0 or not beyond.any():
        return np.empty(0, dtype=np.int64), median, 0.0
    inner = distance[~beyond].max() if not beyond.all() else 0.0
    steps = np.concatenate([[inner], np.sort(distance[beyond])])
    gaps = np.flatnonzero((steps[1:] > FAR_GAP * steps[:-1]) & (steps[:-1] > 0))
    if not gaps.size:
        return np.empty(0, dtype=np.int64), median, 0.0
    cut = steps[gaps[0] + 1]
    return np.flatnonzero(distance >= cut), median, float(steps[gaps[0]])


def _copies(table, used, train, test, path):
    """(shared test rows on the used columns, the warning line or None)."""
    hit, partner = matching_rows(used, train, test)
    shared = int(hit.sum())
    # Equal rows are copies beyond doubt when they are equal on columns no model uses, too. A file of
    # only the used columns cannot tell a copy from values too coarse to differ (50,000 rows of x to 4
    # decimals share 16 % of the test rows by chance): there, only a majority of the test split is said.
    unused = len(table.names) > len(used)
    if unused and shared:
        copied, partner = matching_rows([table.values[:, column] for column in range(len(table.names))], train, test)
    else:
        copied = hit
    if not copied.any() or not (unused or 2 * shared >= len(test)):
        return shared, None
    example = int(np.argmin(test[copied]))
    lines = sorted((table.numbers[test[copied][example]], table.numbers[partner[example]]))
    on = f"on data.features and data.target, {int(copied.sum())} of them on every column" if unused else \
        "on every column"
    return shared, (f"{path}: {shared} of the {len(test)} test rows equal a training row {on} (copied rows, e.g. "
                    f"lines {lines[0]} and {lines[1]}): models that memorise their training rows (knn, the lookup "
                    "table) score better on the test split than they will on new data; remove the repeated rows to "
                    "see their true scores")


def lookup_facts(columns, train, test):
    """(training rows lost to a repeated key, share of test rows with no key): what the tutorial's ``{x: price}``
    dict does with this split, keyed on the feature ``columns`` (fromzero/lookup.py's lookup_table_report).

    From the row hashes (matching_rows): a sort of 64-bit keys, about 20 times as fast as sorting the rows as
    bytes at 10^6 rows × 12; the training rows that share a hash are compared value by value, and should two
    different rows ever share one, the library's own report answers instead.
    """
    hit, _ = matching_rows(columns, train, test)
    keys = _row_hashes(columns)[train]
    order = np.argsort(keys, kind="stable")
    same = np.flatnonzero(keys[order][1:] == keys[order][:-1])  # neighbours in hash order with one hash
    if all(np.array_equal(column[train[order[same]]], column[train[order[same + 1]]]) for column in columns):
        return int(same.size), float(np.mean(~hit))
    from fromzero.lookup import lookup_table_report

    X = np.column_stack(columns)
    return lookup_table_report(X[train], X[test])


def split_facts(table, data, train, test):
    """The split's facts for --summary, and the warning lines (without their prefix)."""
    path, features, target = table.path, data["features"], data["target"]
    used = [table.column(name) for name in (*features, target)]
    shared, copies = _copies(table, used, train, test, path)
    warnings = [copies] if copies else []
    if len(features) + 1 > len(train):
        warnings.append(f"{path}: {len(features)} features (data.features) and an intercept for {len(train)} "
                        "training rows: least squares has no unique fit (it returns the minimum-norm one) and "
                        "any model can fit the training rows exactly; use fewer features or more rows")
    outliers = 0
    for position, name in enumerate([*features, target]):
        rows, median, reach = far_values(used[position])
        outliers += len(rows)
        if len(rows):
            row, column = int(rows.min()), table.index[name]
            more = f" ({len(rows)} such values in this column)" if len(rows) > 1 else ""
            value = number_text(table.cell(row, column).strip(" \t"))
            warnings.append(f"{table.where(row, column)}: {value} is far outside the "
                            f"rest of the column (median {median:.4g}, every other value within {reach:.3g} of it)"
                            f"{more}: least squares, gd and the net can fit it alone and predict about the mean for "
                            "every other row; check it (a typo, a unit, a code for a missing value?)")
    dropped, miss = lookup_facts(used[:-1], train, test)
    facts = {"rows": len(table), "train_rows": len(train), "test_rows": len(test), "shared_rows": shared,
             "lookup_miss": miss,  # share of test rows the tutorial's exact-match dict cannot answer
             "lookup_dropped": dropped,  # training rows the dict loses to repeated keys
             "outliers": outliers, "warnings": warnings}
    return facts, warnings
