"""Stage `eda`: which column moves with the price? Correlations on the training split.

    python -m stages.eda --train data/prepared/train.csv --out-dir plots/eda --metrics metrics/eda.json
"""

import numpy as np

from stages.cli import stage_arguments, stage_main
from stages.files import read_split_frame, save_figure, write_csv, write_json


def draw_heatmap(corr):
    from stages.figures import new_figure

    labels = list(corr.columns)
    figure, axes = new_figure(figsize=(8.5, 7.0))
    image = axes.imshow(corr.to_numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.grid(False)
    for (row, col), value in np.ndenumerate(corr.to_numpy()):
        label = f"{value:.1f}".replace("-0.0", "0.0")
        axes.text(col, row, label, ha="center", va="center", fontsize=8,
                  color="white" if abs(value) > 0.6 else "black")
    figure.colorbar(image, ax=axes, shrink=0.8, label="Pearson correlation")
    axes.set_title("Correlation between columns (training split)")
    return figure


def draw_scatter(x, y, feature, target, r):
    from stages.figures import new_figure, scatter_sample

    x, y = scatter_sample(x, y)
    figure, axes = new_figure()
    axes.scatter(x, y, s=12, alpha=0.5, color="#4c72b0", edgecolor="none")
    axes.set_xlabel(feature)
    axes.set_ylabel(target)
    axes.set_title(f"{target} against {feature} (r = {r:.2f})")
    return figure


@stage_main
def main(argv=None):
    args, params = stage_arguments(argv, __doc__, "train", "out-dir", "metrics")
    data = params["data"]
    feature, target = data["feature"], data["target"]
    import pandas as pd

    train = read_split_frame(args.train)
    corr = train.corr()
    with_target = corr[target].drop(target)
    ranking = pd.DataFrame({"feature": with_target.index, "correlation": with_target.to_numpy()})
    ranking = ranking.reindex(ranking["correlation"].abs().sort_values(ascending=False, kind="stable").index)
    ranking["rank"] = range(1, len(ranking) + 1)
    r_feature = float(with_target[feature])

    matrix = {row: {col: float(corr.loc[row, col]) for col in corr.columns} for row in corr.index}
    write_json(args.out_dir / "correlation.json", matrix, digits=4)
    write_csv(args.out_dir / "ranking.csv", ranking, float_format="%.4f")
    save_figure(draw_heatmap(corr), args.out_dir / "heatmap.png")
    save_figure(draw_scatter(train[feature].to_numpy(), train[target].to_numpy(), feature, target, r_feature),
                args.out_dir / "scatter.png")
    feature_rank = int(ranking.loc[ranking["feature"] == feature, "rank"].iloc[0])
    write_json(args.metrics, {"eda": {"corr": r_feature, "rank": feature_rank}})


if __name__ == "__main__":
    raise SystemExit(main())
