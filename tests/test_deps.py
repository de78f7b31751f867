"""dvc.yaml's code deps tell the truth: each stage lists exactly the first-party modules its command imports.

DVC reruns a stage only when one of its declared deps changes, so a module a
stage imports but does not declare can leave its outputs stale with `dvc status`
silent. The imports are read from the source (ast), transitively, including
imports inside functions: a lazy import still runs.
"""

import ast
import shlex

import pytest
import yaml

from tests.conftest import ROOT

FIRST_PARTY = ("fromzero", "project", "stages", "tools")


def module_file(module):
    """The repository file of a first-party module name, or None for a third-party one."""
    if module.split(".")[0] not in FIRST_PARTY:
        return None
    path = ROOT.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    raise AssertionError(f"import of {module!r}: no such first-party module")


def imported_modules(path):
    """First-party modules that the file at ``path`` imports (anywhere in it), by dotted name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            for alias in node.names:  # `from fromzero import linear` imports a module too
                yield f"{node.module}.{alias.name}"


def closure(module):
    """Every first-party file that running ``python -m module`` loads, as repo-relative posix paths."""
    seen, todo = set(), [module]
    while todo:
        name = todo.pop()
        parts = name.split(".")
        # Importing a.b.c runs a/__init__.py and a/b/__init__.py first.
        for depth in range(1, len(parts) + 1):
            try:
                path = module_file(".".join(parts[:depth]))
            except AssertionError:
                if depth == len(parts) and name != module:
                    continue  # `from pkg import function`: not a module
                raise
            if path is None or path in seen:
                continue
            seen.add(path)
            todo.extend(imported_modules(path))
    return {path.relative_to(ROOT).as_posix() for path in seen}


def stages():
    """dvc.yaml's stages, a `foreach` stage as its template (every instance runs the same code)."""
    with open(ROOT / "dvc.yaml", encoding="utf-8") as handle:
        found = yaml.safe_load(handle)["stages"]
    return {name: stage.get("do", stage) for name, stage in found.items()}


def command_module(cmd):
    words = shlex.split(cmd)
    assert words[:2] == ["python", "-m"], f"stage command should be `python -m stages.<name> ...`: {cmd}"
    return words[2]


def entries():
    from project.models import read_models

    return list(read_models(ROOT / "models.yaml"))


def model_files():
    """The modules of models.yaml's classes (their `code`), which project.models imports by name."""
    return {entry.code for entry in entries()}


# The stages that import every model of models.yaml by name (project/models.py's ``model_class``): check_params
# holds params.yaml to each class's settings, evaluate rebuilds each model. A fit imports its own model's alone.
BUILD_EVERY_MODEL = {"stages.check_params", "stages.evaluate"}


def code_deps(module, own_model=None):
    """What running ``python -m module`` loads: its import closure, plus the models' modules (and what those
    import) it imports by name: every listed model's, or ``own_model``'s for a fit."""
    files = closure(module)
    for entry in entries():
        if module in BUILD_EVERY_MODEL or (own_model is not None and entry.name == own_model.name):
            files |= closure(entry.module)
    return files


def covered(path, declared):
    """Whether a declared dep names ``path`` or a folder holding it."""
    return any(path == dep or path.startswith(dep.rstrip("/") + "/") for dep in declared)


def declared_code(stage, entry=None):
    """The code a stage's deps name (a fit instance's `${item.code}` as its entry's)."""
    deps = [entry.code if dep == "${item.code}" and entry else dep for dep in stage.get("deps", [])]
    return {dep for dep in deps if isinstance(dep, str) and not dep.startswith("${")
            and (dep.endswith(".py") or (ROOT / dep).is_dir() and dep.split("/")[0] in FIRST_PARTY)}


def check_declared(name, imported, declared):
    missing = sorted(path for path in imported if not covered(path, declared))
    assert not missing, f"{name}: imported but not in deps: {missing}"
    unused = sorted(dep for dep in declared if not any(covered(path, {dep}) for path in imported))
    assert not unused, f"{name}: in deps but never imported: {unused}"


@pytest.mark.parametrize("name", sorted(set(stages()) - {"fit"}))
def test_every_stage_declares_exactly_the_code_it_imports(name):
    stage = stages()[name]
    check_declared(name, code_deps(command_module(stage["cmd"])), declared_code(stage))


def test_each_fit_declares_its_own_models_code_and_the_shared_modules_no_other_model():
    """fit@<model> depends on its entry's `code` and the modules every fit shares: an edit in one model's module
    reruns that model's fit alone. A model module that imports another model's module would break that."""
    stage = stages()["fit"]
    assert "${item.code}" in stage["deps"]
    shared, every = declared_code(stage), set()
    for entry in entries():
        imported = code_deps(command_module(stage["cmd"]), own_model=entry)
        every |= imported
        missing = sorted(path for path in imported if not covered(path, declared_code(stage, entry)))
        assert not missing, f"fit@{entry.name}: imported but not in deps: {missing}"
        others = {other.code for other in entries() if other.code != entry.code}
        assert not (closure(entry.module) & others), f"{entry.code} imports another model's module"
        assert entry.code not in shared and not any(covered(entry.code, {dep}) for dep in shared), entry.code
    unused = sorted(dep for dep in shared if not any(covered(path, {dep}) for path in every))
    assert not unused, f"fit: shared deps no fit imports: {unused}"


def test_the_import_reader_sees_lazy_imports_and_package_inits(tmp_path):
    # The checker itself must catch what it is there to catch: an import inside a function.
    source = "def f():\n    import fromzero.linear\n    from fromzero.errors import DivergenceError\n"
    path = tmp_path / "lazy.py"
    path.write_text(source)
    assert {"fromzero.linear", "fromzero.errors", "fromzero.errors.DivergenceError"} <= set(imported_modules(path))
    assert "fromzero/__init__.py" in closure("fromzero.errors")


def test_a_stage_that_builds_models_by_name_depends_on_every_listed_model():
    assert model_files() <= code_deps("stages.evaluate")
    assert model_files() <= code_deps("stages.check_params")
    assert "fromzero/sigmoid_net.py" not in code_deps("stages.load")  # load builds no model


def declared_params(stage):
    keys = []
    for entry in stage.get("params", []):
        keys += [entry] if isinstance(entry, str) else [f"{file}:*" for file in entry]
    return keys


@pytest.mark.parametrize("name", ["load", "eda", "evaluate"])
def test_a_stage_reads_exactly_the_params_it_declares(name):
    import importlib

    module = importlib.import_module(command_module(stages()[name]["cmd"]))
    assert sorted(declared_params(stages()[name])) == sorted(module.READS)


def test_every_fit_declares_what_every_fit_reads_and_its_models_keys():
    from stages import fit

    declared = declared_params(stages()["fit"])
    assert sorted(declared[:len(fit.COMMON)]) == sorted(fit.COMMON)
    assert declared[len(fit.COMMON):] == ["${item.params[0]}", "${item.params[-1]}"]
    command = stages()["fit"]["cmd"]
    assert "--settings ${item.params[0]} ${item.params[-1]}" in command and "--class ${item.class}" in command
    assert "--code ${item.code}" in command


@pytest.mark.parametrize("name", sorted(stages()))
def test_help_explains_every_option_and_names_the_params_read(name, capsys):
    import importlib

    module = importlib.import_module(command_module(stages()[name]["cmd"]))
    with pytest.raises(SystemExit) as done:
        module.main(["--help"])
    assert done.value.code == 0
    shown = capsys.readouterr().out
    options = [word for word in shlex.split(stages()[name]["cmd"]) if word.startswith("--")]
    assert shown.startswith(f"usage: python -m {command_module(stages()[name]['cmd'])} ")  # how it is run
    listed = shown.split("\noptions:\n", 1)[1]  # the options' own lines, not the usage line's
    for option in options:  # every option dvc.yaml passes has a line of help
        line = next(line for line in listed.splitlines() if line.strip().startswith(option))
        assert len(line.split(maxsplit=2)) == 3 or option in listed.split(line, 1)[1][:200], (option, shown)
    declared = declared_params(stages()[name])
    reads = shown.split("params it reads from --params: ", 1)[1] if "params it reads" in shown else ""
    if declared == ["params.yaml:*"]:
        assert "all of it" in reads
    elif not declared:
        assert "it reads no params" in shown
    else:
        assert all(key in reads for key in declared if not key.startswith("${")), (declared, reads)


def test_the_lock_names_only_the_stages_of_the_pipeline():
    """DVC never drops a removed stage's entry from dvc.lock; a stale one only slows every DVC command."""
    from dvc.repo import Repo

    with Repo(str(ROOT)) as repo:
        names = {stage.addressing.split(":")[-1] for stage in repo.index.stages}
    with open(ROOT / "dvc.lock", encoding="utf-8") as handle:
        locked = set(yaml.safe_load(handle)["stages"])
    assert locked == names, f"stale entries: {sorted(locked - names)}, missing: {sorted(names - locked)}"
