"""A model of the user's that breaks the contract, through the real fit and evaluate stages (issue 23, items 8 and 9).

Each row is a class in a module of its own in the scratch project, listed in its models.yaml; the stage
says in one line which promise the class broke, naming its file, with no traceback and no half-written
output. The classes are small on purpose: each breaks one promise and keeps the others.
"""

import sys

import pytest

from tests.conftest import ROOT, model_names, only_error_line, run_stage

HEAD = """
import numpy as np
from fromzero.base import Abilities, Estimator
from fromzero.validation import check_X_y, params_array, params_int


class Broken(Estimator):
    def fit(self, X, y):
        X, y = check_X_y(X, y, estimator=self)
        self.mean_, self.n_features_in_ = float(y.mean()), X.shape[1]
        return self

    def predict(self, X):
        return np.full(self._check_predict_input(X).shape[0], self.mean_)

    def to_dict(self):
        return {"n_features_in": self.n_features_in_, "mean": self.mean_}

    @classmethod
    def from_dict(cls, params):
        model = cls()
        model.mean_ = float(params_array("Broken", params, "mean", ndim=0))
        model.n_features_in_ = params_int("Broken", params, "n_features_in", 1)
        return model
"""

# (id, the class's body added below HEAD's (it overrides), the stage that notices, key words of the one line)
BREAKS = [
    ("fit returns None", "    def fit(self, X, y):\n        Broken.fit_(self, X, y)\n",
     "fit", "fit() returned NoneType, not the model (end fit with `return self`)"),
    ("fit forgets n_features_in_", "    def fit(self, X, y):\n        self.mean_ = 1.0\n        return self\n",
     "fit", "fit() must set n_features_in_ = 1"),
    ("predicts NaN", "    def predict(self, X):\n        return np.full(len(X), np.nan)\n",
     "fit", "predict() on a cross-validation fold returned a NaN or infinite value"),
    ("predicts 1e200", "    def predict(self, X):\n        return np.full(len(X), 1e200)\n",
     "fit", "returned 1e+200, beyond ±1e150"),
    ("predicts a column", "    def predict(self, X):\n        return np.zeros((len(X), 1))\n",
     "fit", "predict() on 81 rows on a cross-validation fold returned (81, 1), not an array of shape (81,)"),
    ("predicts one value short", "    def predict(self, X):\n        return np.zeros(len(X) - 1)\n",
     "fit", "returned (80,), not an array of shape (81,)"),
    ("predicts a list", "    def predict(self, X):\n        return [0.0] * len(X)\n",
     "fit", "returned list, not an array of shape"),
    ("predicts text", "    def predict(self, X):\n        return np.array(['a'] * len(X))\n",
     "fit", "returned <U1 values, not numbers"),
    ("a negative loss", "    abilities = Abilities(iteration='step')\n\n    def fit(self, X, y, progress=None):\n"
     "        Broken.fit_(self, X, y)\n        self.loss_history_, self.n_iter_ = np.array([1.0, -1e-13]), 1\n"
     "        return self\n", "fit", "loss_history_ must be a non-empty 1-D array of finite losses >= 0"),
    ("no loss history", "    abilities = Abilities(iteration='step')\n\n    def fit(self, X, y, progress=None):\n"
     "        Broken.fit_(self, X, y)\n        self.n_iter_ = 1\n        return self\n",
     "fit", "abilities.iteration = 'step' promises loss_history_"),
    ("a fact that is markup", "    def fit_facts(self):\n        return {'<b>x</b>': 1}\n",
     "fit", "fit_facts() holds '<b>x</b>'"),
    ("to_dict holds an object", "    def to_dict(self):\n        return {'n_features_in': 1, 'mean': object()}\n",
     "fit", "to_dict() must give {name: number or array}"),
    ("predicts NaN only once rebuilt", "    @classmethod\n    def from_dict(cls, params):\n        model = cls()\n"
     "        model.mean_, model.n_features_in_ = float('nan'), int(params['n_features_in'])\n        return model\n",
     "evaluate", "predict() on the test split returned a NaN or infinite value"),
]


def module_text(body):
    head = HEAD.replace("class Broken(Estimator):", "class Good(Estimator):")
    return head + "\n\nclass Broken(Good):\n    fit_ = Good.fit\n    from_dict_ = Good.from_dict\n\n" + body


@pytest.fixture
def scratch(project, monkeypatch):
    """The scratch project with a `broken` model of its own code (mymodels/broken.py) in its models.yaml."""
    monkeypatch.syspath_prepend(str(project.root))
    (project.root / "mymodels").mkdir()
    (project.root / "models.yaml").write_text((ROOT / "models.yaml").read_text() + (
        "  broken:\n    class: Broken\n    code: mymodels/broken.py\n    params: [seed]\n"))
    write_module(project, "    pass\n")  # a model that keeps every promise, while the params are checked
    for name in ("check_params", "load"):
        assert run_stage(project, name) == 0
    yield project
    forget()


def forget():
    import importlib

    for module in [name for name in sys.modules if name.startswith("mymodels")]:
        del sys.modules[module]
    importlib.invalidate_caches()


def write_module(project, body):
    forget()
    (project.root / "mymodels/broken.py").write_text(module_text(body))


def fit_broken(project):
    from stages import fit

    return fit.main(["broken", "--class", "Broken", "--code", "mymodels/broken.py", "--settings", "seed",
                     "--params", "params.yaml", "--train", "data/prepared/train.csv", "--out", "models/broken"])


@pytest.mark.parametrize("body, stage, words", [pytest.param(*row[1:], id=row[0]) for row in BREAKS])
def test_a_model_that_breaks_a_promise_is_one_line_naming_its_file(scratch, capsys, body, stage, words):
    write_module(scratch, body)
    if stage == "evaluate":
        assert fit_broken(scratch) == 0
        for name in model_names():  # every other model of models.yaml, a contributor's too
            assert run_stage(scratch, f"fit@{name}") == 0
        capsys.readouterr()
        status = run_stage(scratch, "evaluate")
    else:
        status = fit_broken(scratch)
    assert status == 1
    line = only_error_line(capsys)
    assert line.startswith(f"error: {stage if stage == 'evaluate' else 'fit@broken'}: mymodels/broken.py: Broken "
                           "breaks the model contract: "), line
    assert words in line, line
    assert not (scratch.root / "models/broken").exists() or stage == "evaluate"
    assert not list(scratch.root.rglob("*.tmp"))


def test_a_predict_that_never_returns_is_stopped_at_the_time_limit(scratch, capsys):
    write_module(scratch, "    def predict(self, X):\n        while True:\n            pass\n")
    scratch.set("limits.minutes", 0.05)  # 3 s
    assert fit_broken(scratch) == 1
    line = only_error_line(capsys)
    assert "stopped after running 0.05 minutes, limits.minutes in params.yaml" in line, line
    assert not (scratch.root / "models/broken").exists()


def test_the_class_and_its_module_as_good_as_their_promises_fit_and_score(scratch):
    assert fit_broken(scratch) == 0
