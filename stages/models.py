"""The one list of models (models.yaml) and how a model is built from params.yaml.

An entry names the model's class ("module:Class") and the params keys its settings come from: its
section, whose keys are the constructor's keyword arguments, and a top-level key it also reads
(gd's `lr`). Every fit also reads `seed`, passed to any class whose constructor takes one.
dvc.yaml's `fit` stage fans out over this list, `evaluate` and the report read it; nothing else
names a model.
"""

import importlib
import inspect
import re
from dataclasses import dataclass

from stages.errors import StageError

MODELS_FILE = "models.yaml"
NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")  # a folder name, a JSON key, a Markdown cell: never markup
CLASS_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*")
PARAMS_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A top-level params key passed under another name: `lr` is what users type (`dvc exp run -S lr=...`),
# `learning_rate` what the tutorial and the class call it.
ARGUMENT_NAMES = {"lr": "learning_rate"}


@dataclass(frozen=True)
class ModelEntry:
    name: str
    class_path: str  # "module:Class"
    params: tuple  # one or two params.yaml keys: its section, then a top-level key

    @property
    def model_class(self):
        module, _, name = self.class_path.partition(":")
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as error:
            raise StageError(f"{MODELS_FILE}: {self.name}: class {self.class_path!r} cannot be imported "
                             f"({error})") from None


def parse_entry(name, entry, source=MODELS_FILE):
    """A ModelEntry from one item of models.yaml; StageError naming the model and the field."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise StageError(f"{source}: model name {name!r} is not allowed: must be lower-case letters, digits and _, "
                         "starting with a letter, at most 40 characters (it names a folder and a DVC stage)")
    if not isinstance(entry, dict) or set(entry) != {"class", "params"}:
        raise StageError(f"{source}: {name}: must have exactly the fields class and params, "
                         f"got {sorted(entry) if isinstance(entry, dict) else entry!r}")
    class_path, params = entry["class"], entry["params"]
    if not isinstance(class_path, str) or not CLASS_PATH.fullmatch(class_path):
        raise StageError(f"{source}: {name}.class = {class_path!r} is not allowed: must be module:Class, "
                         "e.g. fromzero.neighbors:KNearestNeighbors")
    if (not isinstance(params, list) or not 1 <= len(params) <= 2
            or not all(isinstance(key, str) and PARAMS_KEY.fullmatch(key) for key in params)):
        raise StageError(f"{source}: {name}.params = {params!r} is not allowed: must be a list of one or two "
                         "params.yaml keys, e.g. [knn], [gd, lr], or [seed] for a model without settings")
    return ModelEntry(name, class_path, tuple(params))


def read_models(path=MODELS_FILE):
    """{name: ModelEntry} in the file's order; StageError on any problem."""
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
    except FileNotFoundError:
        raise StageError(f"{path}: file not found (run from the repository root)") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise StageError(f"{path}: not valid YAML: {str(error).splitlines()[0]}") from None
    models = raw.get("models") if isinstance(raw, dict) else None
    if not isinstance(models, dict) or not models:
        raise StageError(f"{path}: must hold `models:`, a mapping of model name to its class and params")
    return {name: parse_entry(name, entry, path) for name, entry in models.items()}


def constructor_arguments(model_class):
    """The keyword arguments the class's constructor takes."""
    return [name for name, parameter in inspect.signature(model_class).parameters.items()
            if parameter.kind in (parameter.KEYWORD_ONLY, parameter.POSITIONAL_OR_KEYWORD)]


def model_settings(entry, params, source="params.yaml"):
    """The constructor's keyword arguments for ``entry`` from the validated params: {argument: value}.

    A section's keys are arguments as they stand; a top-level key is the argument of its name (or of
    ARGUMENT_NAMES' name for it); `seed` goes to every class that takes one.
    """
    model_class = entry.model_class
    arguments = constructor_arguments(model_class)
    settings = {}
    for key in entry.params:
        value = params[key]
        if isinstance(value, dict):
            unknown = [name for name in value if name not in arguments]
            if unknown:
                raise StageError(f"{source}: {key}.{unknown[0]} is not a setting of {model_class.__name__} "
                                 f"(model {entry.name}); it takes: {', '.join(arguments) or 'none'}")
            settings.update(value)
        elif key != "seed":
            argument = ARGUMENT_NAMES.get(key, key)
            if argument not in arguments:
                raise StageError(f"{MODELS_FILE}: {entry.name} reads {key!r}, but {model_class.__name__} "
                                 f"takes no {argument!r}; it takes: {', '.join(arguments) or 'none'}")
            settings[argument] = value
    if "seed" in arguments:
        settings["seed"] = params["seed"]
    return settings


def build_model(entry, params, **overrides):
    """A new, unfitted estimator for ``entry`` with its settings from ``params``."""
    return entry.model_class(**{**model_settings(entry, params), **overrides})


def setting_key(entry, params, argument):
    """The params key the constructor argument ``argument`` of ``entry`` comes from (None if it has none)."""
    for key in entry.params:
        value = params[key]
        if isinstance(value, dict) and argument in value:
            return f"{key}.{argument}"
        if not isinstance(value, dict) and ARGUMENT_NAMES.get(key, key) == argument:
            return key
    return None
