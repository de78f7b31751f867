"""The Boston split the pipeline uses, rebuilt from the repository's params.yaml."""

from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]


def read_csv(path):
    """(column names, float rows) of a numeric CSV; a first line without the header's names is skipped.

    The Boston file starts with a "506,13" line before its header.
    """
    import pandas as pd

    with open(path, encoding="utf-8") as handle:
        first = handle.readline()
    skip = 1 if all(field.strip().replace(".", "", 1).isdigit() or not field.strip()
                    for field in first.split(",")) else 0
    frame = pd.read_csv(path, skiprows=skip)
    return list(frame.columns), frame.to_numpy(dtype=np.float64)


def split(repo=ROOT, features=("RM",)):
    """X_train (n, d), y_train, X_test, y_test: params.yaml's csv, target, seed and test_size, as `load` splits."""
    from sklearn.model_selection import train_test_split

    params = yaml.safe_load((Path(repo) / "params.yaml").read_text())
    data = params["data"]
    columns, values = read_csv(Path(repo) / data["csv"])
    X = values[:, [columns.index(name) for name in features]]
    y = values[:, columns.index(data["target"])]
    train, test = train_test_split(np.arange(len(y)), test_size=data["test_size"], random_state=params["seed"])
    return X[train], y[train], X[test], y[test]


def params(repo=ROOT):
    return yaml.safe_load((Path(repo) / "params.yaml").read_text())
