"""Stage `eda`: which column moves with the price? Correlations on the training split.

    python -m stages.eda --train data/prepared/train.csv --out-dir plots/eda --metrics metrics/eda.json

A constant column has no correlation: it is written as null (with a note), ranked last, and drawn
blank in the heatmap, never a crash. Metrics: details.eda.<feature>.corr and .rank for each of data.features.
"""

import numpy as np

from stages.cli import stage_arguments, stage_main
from stages.figures import MAX_SCATTER_POINTS
from project.files import write_columns, write_json
from project.splits import column_chunks, split_header

MAX_SCATTER_PANELS = 4
# The heatmap and correlation.json show the target and the columns most correlated with it, at most
# this many in all (the ranking covers every column): a matrix of every pair grows as columns², and
# 10,000 columns would be a 800 MB matrix and an unreadable picture.
MATRIX_COLUMNS = 30
CONSTANT_NOTE = "constant on the training split: its correlation is undefined (null)"


class Moments:
    """Pearson correlations from sums over the rows, a chunk of rows at a time (project/splits.py column_chunks):
    the split is parsed once, and every pass below reads the same chunks, so the sums add in the same order
    whatever the split's length.

    Three passes, as the arithmetic of the whole-array version goes: the means (and which columns are
    constant), then the centred sums of squares and each column's centred products with the target, then
    the matrix of the columns shown. A constant column has no correlation: NaN.
    """

    def __init__(self, path, names, target):
        self.names = names
        self.chunks = list(column_chunks(path, names))
        self.n, total = 0, np.zeros(len(names))
        low, high = np.full(len(names), np.inf), np.full(len(names), -np.inf)
        for chunk in self.chunks:
            self.n += len(chunk)
            total += chunk.sum(axis=0)
            low, high = np.minimum(low, chunk.min(axis=0)), np.maximum(high, chunk.max(axis=0))
        self.mean, self.t = total / self.n, names.index(target)
        squares, products = np.zeros(len(names)), np.zeros(len(names))
        for chunk in self.chunks:
            centred = chunk - self.mean
            squares += (centred * centred).sum(axis=0)
            products += centred.T @ centred[:, self.t]
        self.scale = np.sqrt(squares)
        self.constant = ~(self.scale > 0) | (low == high)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.clip(products / np.where(self.constant, 1.0, self.scale) / np.where(
                self.constant[self.t], 1.0, self.scale[self.t]), -1.0, 1.0)
        r[self.constant] = np.nan
        if self.constant[self.t]:
            r[:] = np.nan
        self.target_r = r

    def matrix(self, shown):
        """(corr (c, c) of the columns ``shown``, NaN where a column is constant; their constant flags)."""
        index = [self.names.index(name) for name in shown]
        cross = np.zeros((len(index), len(index)))
        for chunk in self.chunks:
            centred = chunk[:, index] - self.mean[index]
            cross += centred.T @ centred
        constant, scale = self.constant[index], self.scale[index]
        with np.errstate(divide="ignore", invalid="ignore"):
            unit = np.where(constant, 1.0, scale)
            corr = np.clip(cross / np.outer(unit, unit), -1.0, 1.0)
        corr[constant, :] = np.nan
        corr[:, constant] = np.nan
        np.fill_diagonal(corr, np.where(constant, np.nan, 1.0))
        return corr, constant

    def columns_at(self, columns, rows):
        """The values of ``columns`` at the (sorted) row numbers ``rows``: {name: (len(rows),)}."""
        index = [self.names.index(name) for name in columns]
        found, start = [], 0
        for chunk in self.chunks:
            inside = rows[(rows >= start) & (rows < start + len(chunk))] - start
            found.append(chunk[inside][:, index])
            start += len(chunk)
        values = np.concatenate(found) if found else np.empty((0, len(index)))
        return {name: values[:, i] for i, name in enumerate(columns)}


def ranking(names, r, target):
    """[(feature, r or None, rank or None)], strongest |r| first; constant columns last, unranked."""
    pairs = [(name, r[i]) for i, name in enumerate(names) if name != target]
    defined = sorted((pair for pair in pairs if np.isfinite(pair[1])), key=lambda pair: -abs(pair[1]))
    rows = [(name, float(r), rank) for rank, (name, r) in enumerate(defined, 1)]
    return rows + [(name, None, None) for name, r in pairs if not np.isfinite(r)]


def draw_heatmap(names, corr):
    from stages.figures import new_figure

    figure, axes = new_figure(figsize=(8.5, 7.0))
    image = axes.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1)
    axes.set_xticks(range(len(names)), names, rotation=45, ha="right")
    axes.set_yticks(range(len(names)), names)
    axes.grid(False)
    for (row, col), value in np.ndenumerate(corr):
        label = "–" if not np.isfinite(value) else f"{value:.1f}".replace("-0.0", "0.0")
        axes.text(col, row, label, ha="center", va="center", fontsize=8,
                  color="white" if abs(np.nan_to_num(value)) > 0.6 else "black")
    figure.colorbar(image, ax=axes, shrink=0.8, label="Pearson correlation (– : a constant column)")
    axes.set_title("Correlation between columns (training split)")
    return figure


def draw_scatter(columns, y, target, corr_of):
    """One panel per feature (the best-ranked MAX_SCATTER_PANELS when there are more)."""
    from stages.figures import new_figure, scatter_sample

    figure, axes = new_figure(ncols=len(columns), figsize=(4.2 * len(columns) + 1.2, 4.2), squeeze=False)
    for panel, (feature, x) in zip(axes[0], columns.items()):
        xs, ys = scatter_sample(x, y)
        panel.scatter(xs, ys, s=12, alpha=0.5, color="#4c72b0", edgecolor="none")
        panel.set_xlabel(feature)
        r = corr_of[feature]
        panel.set_title(f"r = {r:.2f}" if r is not None else "r undefined (constant)")
    axes[0][0].set_ylabel(target)
    figure.suptitle(f"{target} against {', '.join(columns)}")
    return figure


READS = ["data.target", "data.features"]


@stage_main
def main(argv=None):
    args, params = stage_arguments(argv, __doc__, {
        "train": "the training split (CSV) written by the load stage",
        "out-dir": "the folder of the pictures and plot data it writes",
        "metrics": "the JSON file of each feature's correlation and rank"}, READS)
    features, target = params["data"]["features"], params["data"]["target"]
    names = split_header(args.train)
    moments = Moments(args.train, names, target)
    ranked = ranking(names, moments.target_r, target)
    corr_of = {name: r for name, r, _ in ranked}
    rank_of = {name: rank for name, _, rank in ranked}
    # The matrix: the target, the features, then the columns most correlated with the target.
    shown_columns = list(dict.fromkeys([target, *features, *(name for name, _, _ in ranked)]))[:MATRIX_COLUMNS]
    shown_columns = [name for name in names if name in shown_columns]  # in the file's order
    corr, constant = moments.matrix(shown_columns)

    # The columns' rows under their own key, so no column (one named `note`, say) meets eda's own keys.
    matrix = {"matrix": {row: {col: (None if not np.isfinite(corr[i, j]) else float(corr[i, j]))
                               for j, col in enumerate(shown_columns)} for i, row in enumerate(shown_columns)}}
    if constant.any():
        matrix["note"] = f"{CONSTANT_NOTE}: {', '.join(np.array(shown_columns)[constant])}"
    metrics = {}
    for feature in features:
        metrics[feature] = {"corr": corr_of[feature], "rank": rank_of[feature]}
        if corr_of[feature] is None:
            metrics[feature]["note"] = CONSTANT_NOTE
    shown = sorted(features, key=lambda f: (rank_of[f] is None, rank_of[f] or 0))[:MAX_SCATTER_PANELS]
    # The scatter's points: every row up to its limit, else the seeded sample stages/figures.py draws.
    rows = np.arange(moments.n) if moments.n <= MAX_SCATTER_POINTS else \
        np.sort(np.random.default_rng(0).choice(moments.n, size=MAX_SCATTER_POINTS, replace=False))
    points = moments.columns_at([*shown, target], rows)
    y = points.pop(target)
    from stages.figures import save_figure

    heatmap, scatter = draw_heatmap(shown_columns, corr), draw_scatter(points, y, target, corr_of)  # drawn first
    write_json(args.out_dir / "correlation.json", matrix, digits=4)
    write_columns(args.out_dir / "ranking.csv", {
        "feature": [name for name, _, _ in ranked],
        "correlation": ["" if r is None else f"{r:.4f}" for _, r, _ in ranked],
        "rank": ["" if rank is None else rank for _, _, rank in ranked]})
    save_figure(heatmap, args.out_dir / "heatmap.png")
    save_figure(scatter, args.out_dir / "scatter.png")
    write_json(args.metrics, {"details": {"eda": metrics}})


if __name__ == "__main__":
    raise SystemExit(main())
