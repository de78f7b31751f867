"""The one list of models, models.yaml: every entry is valid, builds from params.yaml, and is a model.

The contract each class keeps is tests/test_contract.py's; here, what the pipeline relies on: the
list is read strictly, settings come from params.yaml as the entry says, and an entry whose class
is no model (issue 23: `builtins:dict`, `os:system`) is refused before anything calls it.
"""

import numpy as np
import pytest

from project.errors import UserError
from project.models import parse_entry, read_models
from project.params import read_params
from project.yamlfile import read_yaml
from tests.conftest import ROOT
from tests.test_linear import boston_xy

REGISTRY = read_models(ROOT / "models.yaml")
ENTRIES = REGISTRY.entries
TUTORIAL = ["baseline", "least_squares", "knn", "random_search", "gd", "net"]


def params():
    keys = ["seed", *dict.fromkeys(key for entry in REGISTRY for key in entry.params)]
    return read_params(ROOT / "params.yaml", keys=keys, entries=list(REGISTRY))


def make(name, **settings):
    fast = {"steps": 200} if name == "net" else {}
    return ENTRIES[name].build(params(), **{**fast, **settings})


def test_the_list_opens_with_the_tutorials_models_in_its_order_and_names_its_yardsticks():
    assert list(ENTRIES)[:len(TUTORIAL)] == TUTORIAL  # a contributor's model goes after them
    assert (REGISTRY.baseline, REGISTRY.reference) == ("baseline", "least_squares")
    assert ENTRIES["gd"].params == ("gd", "lr") and ENTRIES["baseline"].params == ("seed",)


def test_settings_come_from_the_section_the_top_level_key_and_the_seed():
    p = params()
    assert ENTRIES["gd"].settings(p) == {"learning_rate": 0.01, "steps": p["gd"]["steps"], "standardize": True,
                                         "tol": p["gd"]["tol"], "seed": 42}
    assert ENTRIES["knn"].settings(p) == {"k": 3}
    assert ENTRIES["baseline"].settings(p) == {}
    assert ENTRIES["gd"].key_of("learning_rate") == "lr"
    assert ENTRIES["net"].key_of("learning_rate") == "net.learning_rate"
    assert ENTRIES["knn"].key_of("learning_rate") is None and ENTRIES["knn"].key_of("seed") == "seed"


GOOD = {"class": "KNearestNeighbors", "code": "fromzero/neighbors.py", "params": ["knn"]}


@pytest.mark.parametrize("name, entry, words", [
    ("Knn", GOOD, "model name 'Knn' is not allowed"),
    ("a<b>", GOOD, "is not allowed"),
    ("actual", GOOD, "none of actual, feature"),  # a column of the plot data
    ("knn", {**GOOD, "class": "fromzero.neighbors:KNearestNeighbors"}, "must be a class name"),
    ("knn", {**GOOD, "code": "/usr/lib/python3.11/os.py"}, "must be the path of a Python file of this repository"),
    ("knn", {**GOOD, "code": "../outside/x.py"}, "must be the path of a Python file"),
    ("knn", {**GOOD, "code": "os.py"}, "must be the path of a Python file"),
    ("knn", {**GOOD, "params": []}, "must be its section in params.yaml"),
    ("knn", {**GOOD, "params": ["a", "b", "c"]}, "must be its section in params.yaml"),
    ("knn", {**GOOD, "params": ["seed", "lr"]}, "must be its section"),
    ("knn", {"class": "KNearestNeighbors", "params": ["knn"]}, "exactly the fields class, code and params"),
    ("knn", ["KNearestNeighbors"], "exactly the fields class, code and params"),
])
def test_a_bad_entry_is_one_line_naming_the_model_and_the_field(name, entry, words):
    with pytest.raises(UserError) as raised:
        parse_entry(name, entry)
    assert words in str(raised.value) and str(raised.value).startswith("models.yaml: ")


@pytest.mark.parametrize("class_name, code, words", [
    ("Ghost", "fromzero/neighbors.py", "class = 'Ghost' is not defined in fromzero/neighbors.py"),
    ("KNearestNeighbors", "fromzero/nowhere.py", "code = 'fromzero/nowhere.py' cannot be imported"),
    ("Estimator", "fromzero/base.py", "is not a model"),  # the contract itself, with no fit
    ("Cost", "fromzero/base.py", "is not a model"),  # a class, but no estimator
    ("FIT_FACTS", "fromzero/base.py", "is not a model"),  # a dict, not a class
    ("JSONDecoder", "json/decoder.py", "is not a model"),  # importable, and no model
    ("system", "os/path.py", "is not defined in os/path.py"),  # os.path imports; nothing by that name is called
])
def test_a_class_that_is_no_model_is_refused_before_anything_calls_it(class_name, code, words):
    entry = parse_entry("ghost", {"class": class_name, "code": code, "params": ["seed"]})
    with pytest.raises(UserError) as raised:
        entry.model_class
    assert words in str(raised.value), raised.value


@pytest.mark.parametrize("params_keys, words", [
    (["data"], "'data' holds csv, features, target, test_size, which KNearestNeighbors does not take from its section (the section may set: k)"),
    (["cv"], "'cv' holds folds, which KNearestNeighbors does not take"),
    (["gd"], "'gd' holds standardize, steps, tol, which KNearestNeighbors"),  # once silently dropped: k = 3
    (["knn", "lr"], "knn2.params names 'lr', but KNearestNeighbors has no argument 'learning_rate' (it takes: k)"),
])
def test_an_entry_whose_params_its_class_does_not_take_is_refused_by_check_params(project, capsys, params_keys,
                                                                                    words):
    """An issue-23 pass: a traceback in fit (TypeError), or a section's keys silently dropped."""
    from stages import check_params

    models = project.root / "models.yaml"
    models.write_text((ROOT / "models.yaml").read_text() + "  knn2:\n    class: KNearestNeighbors\n    code: "
                      f"fromzero/neighbors.py\n    params: [{', '.join(params_keys)}]\n")
    assert check_params.main(["--params", project.path("params.yaml"), "--models", str(models), "--out",
                              project.path("params.ok")]) == 1
    line = capsys.readouterr().err.strip()
    assert line.startswith("error: check_params: ") and words in line and "\n" not in line, line
    with pytest.raises(UserError, match="does not take|has no argument"):  # ... and fit, run by hand
        read_models(models).entries["knn2"].settings(read_yaml(ROOT / "params.yaml"))


@pytest.mark.parametrize("name", list(ENTRIES))
def test_every_entry_builds_fits_and_predicts_from_params(name):
    for d in (1, 2, 12):
        X, y, X_test, _ = boston_xy(d)
        model = make(name)
        assert model.fit(X, y) is model and model.n_features_in_ == d
        predicted = model.predict(X_test)
        assert predicted.shape == (len(X_test),) and predicted.dtype == np.float64


@pytest.mark.parametrize("name", list(ENTRIES))
def test_a_one_dimensional_X_is_one_feature(name):
    X, y, X_test, _ = boston_xy(1)
    as_column = make(name).fit(X, y).predict(X_test)
    as_vector = make(name).fit(X[:, 0], y).predict(X_test[:, 0])
    np.testing.assert_array_equal(as_vector, as_column)


@pytest.mark.parametrize("text, words", [
    ("models: {}\n", "must hold `models:`"),
    ("models: [knn]\n", "must hold `models:`"),
    ("reference: ridge\nmodels:\n  knn: {class: KNearestNeighbors, code: fromzero/neighbors.py, params: [knn]}\n",
     "reference = 'ridge' is not one of its models (knn)"),
    ("extra: 1\nmodels:\n  knn: {class: KNearestNeighbors, code: fromzero/neighbors.py, params: [knn]}\n",
     "unknown key 'extra'"),
    ("models:\n  knn: &k {class: KNearestNeighbors, code: fromzero/neighbors.py, params: [knn]}\n  k2: *k\n",
     "an anchor or alias"),
    ("models:\n" + "".join(f"  m{i}: {{class: MeanBaseline, code: fromzero/baseline.py, params: [seed]}}\n"
                          for i in range(65)), "65 models, more than the 64"),
])
def test_a_bad_models_file_is_one_line(tmp_path, text, words):
    path = tmp_path / "models.yaml"
    path.write_text(text)
    with pytest.raises(UserError) as raised:
        read_models(path)
    assert words in str(raised.value), raised.value
