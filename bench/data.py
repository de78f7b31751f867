"""The Boston split the pipeline uses, rebuilt through the project's own layer (no reader of the bench's own).

params.yaml is read by project/params.py, the CSV by project/table.py (the load stage's reader), and the
rows are drawn by stages/split.py's split_rows: the very split `dvc repro load` writes.
"""

from pathlib import Path

from project.models import read_models
from project.params import read_params
from project.table import read_table
from stages.split import split_rows

ROOT = Path(__file__).resolve().parents[1]
KEYS = ["seed", "data.csv", "data.target", "data.features", "data.test_size"]


def params(repo=ROOT, keys=KEYS):
    return read_params(Path(repo) / "params.yaml", keys=keys)


def settings(name, repo=ROOT):
    """The settings params.yaml gives the model ``name`` of models.yaml: its class's constructor arguments."""
    entry = read_models(Path(repo) / "models.yaml").entries[name]
    return entry.build(read_params(Path(repo) / "params.yaml", keys=["seed", *entry.params], entries=[entry])).get_params()


def split(repo=ROOT, features=("RM",)):
    """X_train (n, d), y_train, X_test, y_test: params.yaml's csv, target, seed and test_size, as `load` splits."""
    settings = params(repo, ["seed", "data.csv", "data.target", "data.test_size"])
    data = settings["data"]
    table = read_table(str(Path(repo) / data["csv"]))
    X = table.values[:, [table.index[name] for name in features]]
    y = table.column(data["target"])
    train, test = split_rows(len(table), data["test_size"], settings["seed"])
    return X[train], y[train], X[test], y[test]
