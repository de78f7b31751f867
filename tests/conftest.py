import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
BOSTON_CSV = ROOT / "data" / "raw" / "boston_house_prices.csv"

os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def boston():
    """The bundled data as a DataFrame (first line is a count header)."""
    import pandas as pd

    return pd.read_csv(BOSTON_CSV, skiprows=1)


@pytest.fixture(scope="session")
def boston_split(boston):
    """RM -> MEDV train/test arrays, split as the load stage does with the default params."""
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(boston, test_size=0.2, random_state=42)
    return train.RM.to_numpy(), train.MEDV.to_numpy(), test.RM.to_numpy(), test.MEDV.to_numpy()


@pytest.fixture
def line_data():
    rng = np.random.default_rng(7)
    x = rng.uniform(3.0, 9.0, size=200)
    y = 9.0 * x - 35.0 + rng.normal(0.0, 5.0, size=200)
    return x, y
