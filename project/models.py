"""The one list of models, models.yaml: each model's class, its code, and the params keys its settings come from.

    baseline: baseline             # the yardstick every model is shown beside (the training mean)
    reference: least_squares       # the exact answer: each model's test MSE is compared with it
    models:
      knn:
        class: KNearestNeighbors
        code: fromzero/neighbors.py   # the module that defines the class (its fit's code dependency)
        params: [knn]                 # its section in params.yaml: the constructor's keyword arguments

``params`` is the section, or [section, key] for a model that also reads a top-level key (gd's `lr`,
passed as `learning_rate`), or [seed] for a model without settings. Every fit reads `seed` too, passed
to any class whose constructor takes one. dvc.yaml's `fit` stage fans out over this list; evaluate,
the plots and the report read it; nothing else names a model.
"""

import importlib
import re
from dataclasses import dataclass, field

from project.errors import UserError
from project.schema import ARGUMENT_NAMES
from project.yamlfile import read_yaml, shown

MODELS_FILE = "models.yaml"
NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")  # a folder name, a JSON key, a Markdown cell: never markup
# Names a model may not take: the columns of the long-format plot data (plots/evaluate/*.csv).
RESERVED = {"model", "row", "actual", "predicted", "feature", "value", "iteration", "unit", "loss", "rev"}
CLASS_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
CODE = re.compile(r"(?:[a-z_][a-z0-9_]*/)+[a-z_][a-z0-9_]*\.py")  # a module inside this repository
PARAMS_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")
MAX_MODELS = 64  # what one screen of `dvc exp show`, the plots and the report can show


@dataclass(frozen=True)
class ModelEntry:
    name: str
    class_name: str
    code: str  # "fromzero/neighbors.py"
    params: tuple  # (section,), (section, top-level key) or ("seed",)
    source: str = field(default=MODELS_FILE, compare=False)

    @property
    def module(self):
        return self.code[:-3].replace("/", ".")

    @property
    def class_path(self):
        return f"{self.module}:{self.class_name}"

    @property
    def section_keys(self):
        """The params keys that are sections of this model's settings: its first, unless that is `seed`."""
        return () if self.params[0] == "seed" else (self.params[0],)

    @property
    def top_level_keys(self):
        """{constructor argument: the top-level params key it comes from}, e.g. {"learning_rate": "lr"}."""
        return {ARGUMENT_NAMES.get(key, key): key for key in self.params if key not in self.section_keys
                and key != "seed"}

    def section_arguments(self):
        """The constructor arguments its section may set: all but seed and those a top-level key sets."""
        return [name for name in self.model_class._param_names() if name != "seed" and name not in self.top_level_keys]

    @property
    def model_class(self):
        """The class, imported from ``code`` and held to the contract (an ``Estimator``) before anything calls it."""
        from fromzero.base import Estimator

        try:
            model_class = getattr(importlib.import_module(self.module), self.class_name)
        except ImportError as error:
            raise UserError(f"{self.source}: {self.name}.code = {self.code!r} cannot be imported ({error})") from None
        except AttributeError:
            raise UserError(f"{self.source}: {self.name}.class = {self.class_name!r} is not defined in "
                            f"{self.code}") from None
        if not (isinstance(model_class, type) and issubclass(model_class, Estimator)) or not all(
                callable(getattr(model_class, method, None)) for method in ("fit", "predict", "to_dict", "from_dict")):
            raise UserError(f"{self.source}: {self.name}.class = {self.class_name!r} in {self.code} is not a model: a "
                            "model is a class deriving from fromzero.base.Estimator with fit, predict, to_dict and from_dict "
                            "(docs/contributing.md)")
        try:
            model_class._param_names()
        except TypeError as error:
            raise UserError(f"{self.source}: {self.name}: {error}") from None
        return model_class

    def mismatch(self, params, source="params.yaml"):
        """Why the params keys this entry names cannot be its class's settings (None: they can). A section or a
        top-level key the class does not take would be a TypeError deep in a stage, or silently dropped."""
        arguments = self.model_class._param_names()
        takes = ", ".join(name for name in arguments if name != "seed") or "no settings"
        for argument, key in self.top_level_keys.items():
            if argument not in arguments:
                return (f"{self.source}: {self.name}.params names {key!r}, but {self.class_name} has no argument "
                        f"{argument!r} (it takes: {takes})")
        for key in self.section_keys:
            section = params.get(key)
            extra = sorted(map(str, set(section) - set(self.section_arguments()))) if isinstance(section, dict) else []
            if extra:
                may_set = ", ".join(self.section_arguments()) or "nothing"
                return (f"{self.source}: {self.name}.params = {list(self.params)}: {source}'s {key!r} holds "
                        f"{', '.join(extra)}, which {self.class_name} does not take from its section (the section may "
                        f"set: {may_set}); give the model a section of its own")
        return None

    def settings(self, params):
        """The constructor's keyword arguments from the validated params: {argument: value}.

        A section's keys are arguments as they stand; a top-level key is the argument of its name (or of
        ARGUMENT_NAMES' name for it); `seed` goes to every class that takes one.
        """
        arguments = self.model_class._param_names()
        problem = self.mismatch(params)
        if problem:
            raise UserError(problem)
        settings = {}
        for key in self.section_keys:
            settings.update(params.get(key) or {})
        for argument, key in self.top_level_keys.items():
            settings[argument] = params[key]
        if "seed" in arguments:
            settings["seed"] = params["seed"]
        return settings

    def key_of(self, argument):
        """The params key the constructor argument ``argument`` comes from, e.g. "knn.k" or "lr" (None: none)."""
        if argument in self.top_level_keys:
            return self.top_level_keys[argument]
        if argument == "seed":
            return "seed"
        if self.section_keys and argument in self.section_arguments():
            return f"{self.section_keys[0]}.{argument}"
        return None

    def build(self, params, **overrides):
        """A new, unfitted estimator with its settings from ``params``."""
        return self.model_class(**{**self.settings(params), **overrides})


@dataclass(frozen=True)
class Registry:
    entries: dict  # {name: ModelEntry}, in the file's order
    baseline: str | None = None
    reference: str | None = None

    def __iter__(self):
        return iter(self.entries.values())


def parse_entry(name, entry, source=MODELS_FILE):
    """A ModelEntry from one item of models.yaml; UserError naming the model and the field."""
    if not isinstance(name, str) or not NAME.fullmatch(name) or name in RESERVED:
        raise UserError(f"{source}: model name {shown(name)} is not allowed: must be lower-case letters, digits and _, "
                        "starting with a letter, at most 40 characters (it names a folder and a DVC stage), and none "
                        f"of {', '.join(sorted(RESERVED))} (columns of the plot data)")
    if not isinstance(entry, dict) or set(entry) != {"class", "code", "params"}:
        got = sorted(map(str, entry)) if isinstance(entry, dict) else shown(entry)
        raise UserError(f"{source}: {name}: must have exactly the fields class, code and params, got {got}")
    class_name, code, params = entry["class"], entry["code"], entry["params"]
    if not isinstance(class_name, str) or not CLASS_NAME.fullmatch(class_name):
        raise UserError(f"{source}: {name}.class = {shown(class_name)} is not allowed: must be a class name, "
                        "e.g. KNearestNeighbors")
    if not isinstance(code, str) or not CODE.fullmatch(code):
        raise UserError(f"{source}: {name}.code = {shown(code)} is not allowed: must be the path of a Python file of "
                        "this repository that defines the class, e.g. fromzero/neighbors.py")
    if (not isinstance(params, list) or not 1 <= len(params) <= 2
            or not all(isinstance(key, str) and PARAMS_KEY.fullmatch(key) for key in params)
            or (params[0] == "seed" and len(params) > 1) or "seed" in params[1:]):
        raise UserError(f"{source}: {name}.params = {shown(params)} is not allowed: must be its section in params.yaml, "
                        "e.g. [knn], or its section and a top-level key, e.g. [gd, lr], or [seed] for a model "
                        "without settings")
    return ModelEntry(name, class_name, code, tuple(params), source)


def read_models(path=MODELS_FILE):
    """The Registry of models.yaml, in the file's order; UserError on any problem (no class is imported)."""
    raw = read_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("models"), dict) or not raw["models"]:
        raise UserError(f"{path}: must hold `models:`, a mapping of model name to its class, code and params")
    unknown = sorted(map(str, set(raw) - {"models", "baseline", "reference"}))
    if unknown:
        raise UserError(f"{path}: unknown key {unknown[0]!r}; it holds models, baseline and reference")
    if len(raw["models"]) > MAX_MODELS:
        raise UserError(f"{path}: {len(raw['models'])} models, more than the {MAX_MODELS} the plots, `dvc exp show` "
                        "and the report can show; split them over experiments")
    entries = {name: parse_entry(name, entry, path) for name, entry in raw["models"].items()}
    roles = {}
    for role in ("baseline", "reference"):
        value = raw.get(role)
        if value is not None and value not in entries:
            raise UserError(f"{path}: {role} = {shown(value)} is not one of its models ({', '.join(entries)})")
        roles[role] = value
    return Registry(entries, **roles)
