"""Every bad value in params.yaml: one line naming the key, the value and what is allowed."""

import pytest

from project.errors import UserError
from project.params import parse_override, validate
from project.schema import CORE
from stages.check_params import validate_file
from tests.conftest import ROOT, only_error_line


def read_params(path):
    """The whole file, validated as check_params validates it."""
    return validate_file(path, ROOT / "models.yaml")


def run_check(project):
    from stages import check_params

    return check_params.main(["--params", project.path("params.yaml"), "--models", str(ROOT / "models.yaml"),
                              "--out", project.path("params.ok")])


def test_the_repositorys_params_are_valid():
    params = read_params("params.yaml")
    assert params["lr"] == 0.01 and params["knn"]["k"] == 3 and params["data"]["features"] == ["RM"]
    assert params["net"]["batch_size"] == "auto" and params["net"]["gradients"] == "manual"
    assert params["net"]["optimizer"] == "gd" and params["cv"]["folds"] == 5
    assert params["evaluate"] == {"bootstrap": 1000, "confidence": 0.95}
    assert params["gates"]["beats_reference"] == []


@pytest.mark.parametrize("key, value, expected", [
    ("lr", -0.1, "lr = -0.1 is not allowed: must be a finite number > 0"),
    ("lr", 0, "lr = 0 is not allowed"),
    ("lr", "fast", "lr = 'fast' is not allowed"),
    ("lr", ".inf", "lr = '.inf' is not allowed"),
    ("seed", -1, "seed = -1 is not allowed: must be a whole number from 0 to 4294967295"),
    ("seed", 2**32, "seed = 4294967296 is not allowed"),
    ("knn.k", 0, "knn.k = 0 is not allowed: must be a whole number >= 1"),
    ("knn.k", 2.5, "knn.k = 2.5 is not allowed"),
    ("gd.steps", True, "gd.steps = True is not allowed"),
    ("gd.standardize", "yes", "gd.standardize = 'yes' is not allowed: must be true or false"),
    ("data.test_size", 1.5, "data.test_size = 1.5 is not allowed: must be a finite number > 0 and < 1"),
    ("data.test_size", 0, "data.test_size = 0 is not allowed"),
    ("data.features", 7, "data.features = 7 is not allowed: must be a list of column names"),
    ("data.features", ["RM", 7], "data.features = ['RM', 7] is not allowed"),
    ("data.features", ["MEDV"], "data.features = ['MEDV'] holds data.target = 'MEDV'"),
    ("data.features", ["RM", "RM"], "data.features lists 'RM' twice"),
    ("net.hidden", 0, "net.hidden = 0 is not allowed"),
    ("net.learning_rate", -1, "net.learning_rate = -1 is not allowed"),
    ("net.batch_size", -8, "net.batch_size = -8 is not allowed: must be one of auto or a whole number >= 0"),
    ("net.batch_size", 2.5, "net.batch_size = 2.5 is not allowed"),
    ("net.gradients", "Manual", "net.gradients = 'Manual' is not allowed: must be one of manual, autodiff"),
    ("net.optimizer", "sgd", "net.optimizer = 'sgd' is not allowed: must be one of gd, lbfgs"),
    ("cv.folds", 101, "cv.folds = 101 is not allowed: must be a whole number from 2 to 100"),
    ("evaluate.bootstrap", 99, "evaluate.bootstrap = 99 is not allowed: must be a whole number from 100 to 100000"),
    ("evaluate.confidence", 0.9999, "evaluate.confidence = 0.9999 is not allowed: must be a finite number >= 0.5"),
    ("gates.beats_reference", ["gd", "knnn"], "gates.beats_reference lists 'knnn', which is not a model of models.yaml "
                                              "(did you mean 'knn'?)"),
    ("gates.beats_reference", ["least_squares"], "lists 'least_squares', which is not a model"),  # the reference
    ("random_search.high", 2**63, "random_search.high = 9223372036854775808 is not allowed"),
    ("limits.memory_gib", 0, "limits.memory_gib = 0 is not allowed: must be one of auto or a finite number > 0"),
    ("limits.minutes", "ten", "limits.minutes = 'ten' is not allowed"),
    # beyond a year the stage's timer overflowed the system's (a traceback, found by issue 23's own pass)
    ("limits.minutes", 1e10, "limits.minutes = 10000000000.0 is not allowed: must be a finite number > 0 and <= "
                             "525600"),
    ("random_search.trials", 0, "random_search.trials = 0 is not allowed"),
    ("gates.max_mse_ratio", {"nett": 1.0}, "did you mean 'net'?"),
    ("gates.max_mse_ratio", {"net": "x"}, "gates.max_mse_ratio.net = 'x' is not allowed"),
])
def test_bad_value_is_named_with_what_is_allowed(project, capsys, key, value, expected):
    project.set(key, value)
    assert run_check(project) == 1
    line = only_error_line(capsys)
    assert "params.yaml" in line and expected in line
    assert not (project.root / "params.ok").exists()


@pytest.mark.parametrize("key, suggestion", [("lrr", "lr"), ("sed", "seed"), ("knn.kk", "knn.k"),
                                             ("gd.stepz", "gd.steps"), ("nett", "net")])
def test_unknown_key_is_rejected_with_a_suggestion(project, capsys, key, suggestion):
    if "." in key:
        section, leaf = key.split(".")
        project.params[section][leaf] = 1
    else:
        project.params[key] = 0.001
    project.save_params()
    assert run_check(project) == 1
    assert f"unknown key '{key}' (did you mean '{suggestion}'?)" in only_error_line(capsys)


def test_a_section_replaced_by_a_value(project, capsys):
    project.params["knn"] = 3
    project.save_params()
    assert run_check(project) == 1
    assert "knn = 3 is not allowed: must be a section with knn.k" in only_error_line(capsys)


def test_missing_key_and_broken_yaml(project, capsys):
    project.delete("seed")
    assert run_check(project) == 1
    assert "missing key 'seed'" in only_error_line(capsys)
    project.set("seed", 42).delete("gd.tol")  # a model's setting may be left out: its class's default stands in
    assert "tol" not in read_params(project.path("params.yaml"))["gd"]
    project.params.pop("knn")
    project.save_params()
    assert run_check(project) == 1
    assert "missing section 'knn', which models.yaml's knn reads" in only_error_line(capsys)
    (project.root / "params.yaml").write_text("lr: [0.01\nseed: 1\n")
    assert run_check(project) == 1
    assert "params.yaml: not valid YAML at line" in only_error_line(capsys)


@pytest.mark.parametrize("key, value", [("net.batch_size", "auto"), ("net.batch_size", 0), ("net.batch_size", 512),
                                        ("net.gradients", "autodiff"), ("net.optimizer", "lbfgs"),
                                        ("data.features", ["RM", "LSTAT"]), ("gates.beats_reference", ["net"]),
                                        ("seed", 2**32 - 5), ("random_search.low", -10**9)])  # with seeds: 5
def test_new_values_that_are_allowed(project, key, value):
    project.set(key, value)
    params = read_params(project.path("params.yaml"))
    section, leaf = key.split(".") if "." in key else (None, key)
    assert (params[section][leaf] if section else params[leaf]) == value


def test_the_old_single_feature_key_says_what_replaced_it(project, capsys):
    project.params["data"]["feature"] = "RM"
    project.save_params()
    assert run_check(project) == 1
    assert "data.feature = 'RM': data.feature is now data.features (a list)" in only_error_line(capsys)


def test_exponents_are_numbers_as_dvc_reads_them():
    # PyYAML (YAML 1.1) reads `lr: 1e-3` as the string "1e-3"; DVC and this project's one dialect, as 0.001.
    assert parse_override("lr=1e-3") == ("lr", 0.001)
    assert validate({"evaluate": {"confidence": 9.5e-1}}, CORE, keys=["evaluate.confidence"]) == \
        {"evaluate": {"confidence": 0.95}}
    with pytest.raises(UserError, match="seed = '1e-3x' is not allowed"):
        validate({"seed": "1e-3x"}, CORE, keys=["seed"])


@pytest.mark.parametrize("old, new, expected", [
    ("seed: 42", "seed: 042", "seed = '042' is not allowed"),  # PyYAML: octal 34; DVC: 42
    ("seed: 42", "seed: 1:00", "seed = '1:00' is not allowed"),  # PyYAML: sexagesimal 60
    ("standardize: true", "standardize: yes", "gd.standardize = 'yes' is not allowed: must be true or false"),
])
def test_scalars_that_yaml_11_and_dvc_read_differently_are_refused(project, capsys, old, new, expected):
    # DVC reads params.yaml as YAML 1.2; a value both sides would read differently is refused, not guessed.
    from stages import check_params

    path = project.root / "params.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    assert check_params.main(["--params", str(path), "--models", str(ROOT / "models.yaml"),
                              "--out", project.path("params.ok")]) == 1
    assert expected in only_error_line(capsys)


def test_a_feature_called_no_is_a_name_not_a_boolean(project):
    path = project.root / "params.yaml"
    path.write_text(path.read_text().replace("features:\n  - RM", "features: [RM, NO]"))
    assert read_params(path)["data"]["features"] == ["RM", "NO"]


# ---- issue 23: files and values that would make a reader eat the machine ----------------------

def alias_bomb(levels=8, width=10):
    """A 3 KB file whose aliases expand to width**levels values (10^8 here) inside a checked key."""
    lines = ["a0: &a0 [RM]"]
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + f"\ndata:\n  features: *a{levels}\n"


HOSTILE_PARAMS = [  # (id, the file's text (or a function of the valid text), key words of the one line)
    ("an alias bomb in a checked key", lambda text: alias_bomb(), ["an anchor or alias", "line 1"]),
    ("one anchor and alias, harmless but refused", lambda text: text.replace("seed: 42", "seed: &s 42\nseeds2: *s"),
     ["an anchor or alias (&name / *name); write each value out"]),
    ("a 2 MB comment", lambda text: text + "#" + "x" * (2 << 20) + "\n", ["bytes, more than the 1 MiB"]),
    ("10,000 levels of nesting", lambda text: text + "deep: " + "[" * 10_000 + "]" * 10_000 + "\n",
     ["nested deeper than 32 levels"]),
    ("200,000 items under an unknown key", lambda text: text + "junk: [" + "1," * 200_000 + "1]\n",
     ["more than 100,000 values"]),
    ("a 1 MB value in a checked key", lambda text: text.replace("target: MEDV", "target: " + "M" * 900_000),
     ["data.target = 'MMMM", "is not allowed"]),
    ("a huge list in a checked key", lambda text: text.replace("target: MEDV", "target: MEDV\n  features: ["
                                                                + "RM, " * 50_000 + "X]"), ["key 'features' appears twice"]),
]


@pytest.mark.parametrize("name, make, words", HOSTILE_PARAMS, ids=[row[0] for row in HOSTILE_PARAMS])
def test_a_params_file_that_would_eat_the_machine_is_one_short_line(project, capsys, name, make, words):
    path = project.root / "params.yaml"
    path.write_text(make(path.read_text()))
    assert run_check(project) == 1
    line = only_error_line(capsys)
    assert all(word in line for word in words), line
    assert len(line) < 600, f"the line shows a bounded excerpt, not the value: {len(line)} characters"
    assert not (project.root / "params.ok").exists()


@pytest.mark.parametrize("name, make, words", HOSTILE_PARAMS[:5], ids=[row[0] for row in HOSTILE_PARAMS[:5]])
def test_every_reader_refuses_them_alike(project, capsys, name, make, words):
    """The stages that read a few keys, and a -S value, go through the same reader."""
    from tests.conftest import run_load

    path = project.root / "params.yaml"
    path.write_text(make(path.read_text()))
    assert run_load(project) == 1
    line = only_error_line(capsys)
    assert all(word in line for word in words), line
    with pytest.raises(UserError, match="an anchor or alias"):
        parse_override("data.features=" + alias_bomb().split("\n", 1)[0].split(": ", 1)[1])


def test_the_last_seed_of_seeds_is_one_the_split_takes(project, capsys):
    """The documented largest seed with seeds: 5 passed check_params, then fit@random_search refused a seed
    nobody wrote (4294967296): issue 23's own pass."""
    project.set("seed", 2**32 - 1)
    assert run_check(project) == 1
    assert only_error_line(capsys).endswith(
        "params.yaml: seed = 4294967295 with seeds = 5 is not allowed: the runs use seed to seed + seeds - 1 = "
        "4294967299, above 4294967295; lower seed")
    project.set("seed", 2**32 - 5)  # the last of five: the largest seed there is
    assert run_check(project) == 0
