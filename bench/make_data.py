"""A synthetic, seeded regression CSV with the Boston columns, for scale runs.

    python -m bench.make_data --rows 1000000 --out bench/work/synthetic_1000000.csv
    python -m bench.make_data --rows 1000 --extra 8 --out wide.csv   # 13 + 8 feature columns

Rows are drawn from a multivariate normal with the Boston data's means and
covariance (so the correlations, RM's included, look like the real ones), then
rounded to the real columns' decimals: the 13 feature columns and MEDV, the
target. ``--extra N`` appends N more features, X1..XN, each a standard normal
rounded to 4 decimals that carries a little of MEDV's signal. Same seed, same bytes.
"""

import argparse
from pathlib import Path

import numpy as np

BOSTON = Path(__file__).resolve().parents[1] / "data" / "raw" / "boston_house_prices.csv"
DECIMALS = {"CRIM": 5, "ZN": 1, "INDUS": 2, "CHAS": 0, "NOX": 3, "RM": 3, "AGE": 1, "DIS": 4, "RAD": 0,
            "TAX": 0, "PTRATIO": 1, "B": 2, "LSTAT": 2, "MEDV": 1}
TARGET = "MEDV"


def boston():
    """(columns, values (506, 14)) of the real data."""
    with open(BOSTON, encoding="utf-8") as handle:
        handle.readline()  # "506,13": the row and feature counts
        columns = [name.strip().strip('"') for name in handle.readline().split(",")]
    return columns, np.loadtxt(BOSTON, delimiter=",", skiprows=2)


def synthetic_array(rows, seed=0, extra=0):
    """(columns, values (rows, 14 + extra)): Boston-like rows, target MEDV among them."""
    columns, real = boston()
    rng = np.random.default_rng(seed)
    values = rng.multivariate_normal(real.mean(axis=0), np.cov(real, rowvar=False), size=rows, method="cholesky")
    for i, column in enumerate(columns):
        values[:, i] = values[:, i].round(DECIMALS[column])
    if extra:
        target = values[:, columns.index(TARGET)]
        noise = rng.standard_normal((rows, extra))
        signal = (target - target.mean()) / target.std()
        weights = np.linspace(0.1, 0.5, extra)
        values = np.column_stack([values, (np.sqrt(1 - weights**2) * noise + weights * signal[:, None]).round(4)])
        columns = columns + [f"X{i + 1}" for i in range(extra)]
    return columns, values


def synthetic_frame(rows, seed=0, extra=0):
    import pandas as pd

    columns, values = synthetic_array(rows, seed, extra)
    return pd.DataFrame(values, columns=columns)


def write_csv(rows, out, seed=0, extra=0):
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    synthetic_frame(rows, seed, extra).to_csv(tmp, index=False, lineterminator="\n")
    tmp.replace(out)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--extra", type=int, default=0, help="extra feature columns X1..XN beyond the 13")
    args = parser.parse_args(argv)
    write_csv(args.rows, args.out, args.seed, args.extra)
    print(f"wrote {args.out} ({args.rows} rows)")


if __name__ == "__main__":
    main()
