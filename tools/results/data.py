"""docs/results.json: what `python -m tools.results` measured, read strictly, and ``--compare`` against it.

The file is read as the stages read their own JSON (project/files.py's ``read_json``: no NaN, no key
twice, bounded) and its shape checked before anything is rendered from it, so a hand-edited or broken
file is one line naming the file and the place, never a traceback, and nothing in it reaches the page
as markup (a model is a models.yaml name; a configuration, one this tool defines).
"""

import math

from project.errors import UserError
from project.files import NotOurJSON, read_json
from project.models import NAME
from tools.results.runs import CONFIGURATIONS, METRICS, read_metrics

MAX_DATA_BYTES = 16 << 20  # the tool writes about 20 KB
SETTINGS = ("seed", "seeds", "folds", "bootstrap", "confidence")
REQUIRED = {"test": ("mse", "mse_low", "mse_high"), "cv": ("mse_mean", "mse_std"), "fit": ()}
TOGETHER = [("vs_reference", "vs_reference_low", "vs_reference_high"),
            ("seeds", "mse_seeds_min", "mse_seeds_median", "mse_seeds_max")]


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def read_data(path):
    """docs/results.json (or ``--data``), checked: UserError naming the file and the place on any problem."""
    try:
        data = read_json(path, max_bytes=MAX_DATA_BYTES)
    except FileNotFoundError:
        raise UserError(f"{path}: not found; run `python -m tools.results` to measure it") from None
    except (NotOurJSON, ValueError, RecursionError) as error:
        raise UserError(f"{path}: not what tools.results writes ({error})") from None
    except OSError as error:
        raise UserError(f"{path}: cannot be read ({error.strerror or error})") from None
    check_data(data, path)
    return data


def check_data(data, path):
    def bad(where, what):
        raise UserError(f"{path}: {where} {what}; rerun `python -m tools.results` (or take the committed file back)")

    if not isinstance(data, dict):
        bad("the file", "is not a JSON object")
    settings = data.get("settings")
    if not isinstance(settings, dict) or not all(_number(settings.get(key)) for key in SETTINGS):
        bad("settings", f"must hold {', '.join(SETTINGS)} as numbers")
    if not 0 < settings["confidence"] < 1:
        bad("settings.confidence", "must be between 0 and 1")
    configurations = data.get("configurations")
    if not isinstance(configurations, list) or not configurations:
        bad("configurations", "must be a non-empty list")
    seen = set()
    for index, entry in enumerate(configurations):
        where = f"configurations[{index}]"
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or name not in CONFIGURATIONS or name in seen:
            bad(where, f"must be an object whose name is one of {', '.join(CONFIGURATIONS)}, each once")
        seen.add(entry["name"])
        where = f"configuration {entry['name']}"
        if not isinstance(entry.get("set"), list) or not all(isinstance(item, str) for item in entry["set"]):
            bad(f"{where}: set", "must be a list of key=value texts")
        for kind in METRICS:
            _check_rows(entry.get(kind), kind, f"{where}: {kind}", bad)
        if not entry["test"]:
            bad(f"{where}: test", "holds no model")


def _check_rows(rows, kind, where, bad):
    if not isinstance(rows, dict):
        bad(where, "must be an object of model name to its numbers")
    for model, row in rows.items():
        if not NAME.fullmatch(model):
            bad(where, f"names {model[:40]!r}, which is not a model name (models.yaml's names: a-z, 0-9, _)")
        if not isinstance(row, dict):
            bad(f"{where}.{model}", "must be an object of numbers")
        for key, value in row.items():
            if not (_number(value) or (kind == "fit" and key == "converged" and isinstance(value, bool))):
                bad(f"{where}.{model}.{str(key)[:40]}", "must be a finite number")
        missing = [key for key in REQUIRED[kind] if key not in row]
        for group in TOGETHER if kind == "test" else ():
            if any(key in row for key in group):
                missing += [key for key in group if key not in row]
        if missing:
            bad(f"{where}.{model}", f"lacks {', '.join(missing)}")


def compare(data, name, metrics_dir):
    """[lines] where the workspace's metrics differ from configuration ``name``'s in ``data`` (none: equal)."""
    entry = next((item for item in data["configurations"] if item["name"] == name), None)
    if entry is None:
        raise UserError(f"no configuration {name!r} in docs/results.json; it has: "
                        + ", ".join(item["name"] for item in data["configurations"]))
    here = read_metrics(metrics_dir.parent)
    differences = []
    for kind in METRICS:
        for model in sorted(set(entry[kind]) | set(here[kind])):
            ours, page = here[kind].get(model, {}), entry[kind].get(model, {})
            for key in sorted(set(ours) | set(page)):
                if ours.get(key) != page.get(key):
                    differences.append(f"{kind}.{model}.{key}: {ours.get(key)} in {metrics_dir}, "
                                       f"{page.get(key)} in docs/results.json ({name})")
    return differences
