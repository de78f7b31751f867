"""Every message names its real cause (issue 19, item 7, for the stages), as a table: the configurations that
were blamed on something else, each with the words it must say and the words it must not."""

import pytest

from tests.conftest import only_error_line, run_stage


def written(old, new):
    """Edit params.yaml as text (a number written as the user typed it, which YAML then reads)."""
    def apply(project):
        path = project.root / "params.yaml"
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new, 1))
    return apply


def setting(**changes):
    def apply(project):
        for key, value in changes.items():
            project.set(key.replace("__", "."), value)
    return apply


# (id, the change, the stage, status, words it says, words it must not say)
CASES = [
    ("lr: 1e-400 typed in params.yaml", written("lr: 0.01", "lr: 1e-400"), "check_params", 1,
     ["params.yaml: lr = 1e-400 is not allowed: 1e-400 is below the smallest 64-bit float (about 5e-324): it "
      "underflows to 0.0"], ["lr = 0.0"]),
    ("lr: 1e400 typed in params.yaml", written("lr: 0.01", "lr: 1e400"), "check_params", 1,
     ["lr = 1e400 is not allowed: 1e400 is beyond the largest 64-bit float", "overflows to infinity"], ["inf "]),
    ("lr: 1e-400 as DVC records it (0.0)", written("lr: 0.01", "lr: 0.0"), "check_params", 1,
     ["lr = 0.0 is not allowed: must be a finite number > 0 (a number below about 5e-324, such as 1e-400, "
      "underflows to 0.0)"], []),
    ("lr: 1e-400 read by the fit itself", written("lr: 0.01", "lr: 1e-400"), "fit@gd", 1,
     ["lr = 1e-400 is not allowed: 1e-400 is below the smallest 64-bit float"], []),
    ("gd.tol above every partial", setting(gd__tol=1e300), "fit@gd", 1,
     ["params.yaml: gd.tol = 1e+300 does not suit gd on the training split (404 rows): tol = 1e+300 is above every "
      "partial derivative at the start (the largest is", "the descent would stop before its first step; lower gd.tol"],
     ["change gd.tol", "; lower tol"]),
    ("knn.k above the rows, in the billions", setting(knn__k=10**9), "fit@knn", 1,
     ["knn.k = 1000000000 does not suit knn on the training split (404 rows)", "k must be between 1 and 404"],
     ["too large", "GiB"]),
    ("a batch of one row, then a fold diverges", setting(net__batch_size=1), "fit@net", 1,
     ["net.learning_rate = 0.3 fits the training split but net diverges on a cross-validation fold",
      "(with net.batch_size = 1, which may cause it too)"], []),
    ("the raw line diverges", setting(gd__standardize=False, lr=10.0), "fit@gd", 1,
     ["lr = 10 makes the fit diverge", "(with gd.standardize = false, which may cause it too)"], ["False"]),
    ("a batch of 10^9 rows on small data (the full batch: nothing to refuse)", setting(net__batch_size=10**9),
     "fit@net", 0, [], []),
    ("knn.k: 3.0 as DVC records -S knn.k=3.0", setting(knn__k=3.0), "check_params", 0, [], []),
    ("cv.folds: 5.0", setting(cv__folds=5.0), "fit@baseline", 0, [], []),
]


@pytest.mark.parametrize("change, stage, status, words, never",
                         [pytest.param(*case[1:], id=case[0]) for case in CASES])
def test_a_message_names_its_real_cause(project, capsys, change, stage, status, words, never):
    for name in ("check_params", "load"):
        assert run_stage(project, name) == 0
    capsys.readouterr()
    change(project)
    assert run_stage(project, stage) == status
    if status == 0:
        return
    line = only_error_line(capsys)
    assert line.startswith(f"error: {stage}: "), line
    for word in words:
        assert word in line, (word, line)
    for word in never:
        assert word not in line, (word, line)
