"""A synthetic, seeded regression CSV with the Boston columns, for scale runs.

    python -m bench.make_data --rows 1000000 --out bench/work/synthetic_1000000.csv

Rows are drawn from a multivariate normal with the Boston data's means and
covariance (so the correlations, RM's included, look like the real ones), then
rounded to the real columns' decimals. Same seed, same bytes.
"""

import argparse
from pathlib import Path

import numpy as np

BOSTON = Path(__file__).resolve().parents[1] / "data" / "raw" / "boston_house_prices.csv"
DECIMALS = {"CRIM": 5, "ZN": 1, "INDUS": 2, "CHAS": 0, "NOX": 3, "RM": 3, "AGE": 1, "DIS": 4, "RAD": 0,
            "TAX": 0, "PTRATIO": 1, "B": 2, "LSTAT": 2, "MEDV": 1}


def synthetic_frame(rows, seed=0):
    import pandas as pd

    boston = pd.read_csv(BOSTON, skiprows=1)
    rng = np.random.default_rng(seed)
    values = rng.multivariate_normal(boston.mean().to_numpy(), boston.cov().to_numpy(), size=rows,
                                     method="cholesky")
    frame = pd.DataFrame(values, columns=boston.columns)
    for column, decimals in DECIMALS.items():
        frame[column] = frame[column].round(decimals)
    return frame


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    synthetic_frame(args.rows, args.seed).to_csv(args.out, index=False, lineterminator="\n")
    print(f"wrote {args.out} ({args.rows} rows)")


if __name__ == "__main__":
    main()
