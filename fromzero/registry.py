"""The one list of models: params validation, colours, evaluation, the report and the gates read it.

Adding a model means: a library class with the model contract (below), a stage
that fits it, one entry here, and its lines in dvc.yaml.

The model contract (scikit-learn's, without its class hierarchy):
    Model(*, **settings)        stores the settings, nothing else
    .fit(X, y) -> self          X (n, d) or (n,), y (n,); sets trailing-underscore attributes
    .predict(X) -> (n,)
    .to_dict() -> dict          the fitted parameters, JSON-able (floats, ints, nested lists)
    Model.from_dict(dict)       a fitted model that predicts as the one that wrote it
"""

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSpec:
    name: str
    class_path: str  # "module:Class", imported only when a model is built (see below)
    color: str  # one colour per model, the same in every figure, DVC plot and the report
    reference: bool  # a yardstick (drawn dashed, on top), not one of the tutorial's learners
    summary: str

    @property
    def model_class(self):
        module, _, name = self.class_path.partition(":")
        return getattr(importlib.import_module(module), name)


# The classes are named, not imported: params validation, colours and the report read this list
# without loading every model, so a stage's code deps stay the modules it really runs (tests/test_deps.py
# adds the models' modules to the stages that rebuild models by name).
MODELS = {spec.name: spec for spec in (
    ModelSpec("baseline", "fromzero.baseline:MeanBaseline", "#9e9e9e", True, "predicts the training mean"),
    ModelSpec("least_squares", "fromzero.linear:LeastSquares", "#000000", True, "the exact line (plane): lstsq"),
    ModelSpec("knn", "fromzero.neighbors:KNearestNeighbors", "#1b9e77", False, "mean of the k nearest training rows"),
    ModelSpec("random_search", "fromzero.random_search:RandomSearchLinear", "#d95f02", False,
              "best of random integer coefficients"),
    ModelSpec("gd", "fromzero.gradient_descent:GradientDescentLinear", "#7570b3", False,
              "gradient descent on the line's MSE"),
    ModelSpec("net", "fromzero.sigmoid_net:SigmoidNet", "#e7298a", False, "a sum of sigmoids, trained by backprop"),
)}
MODEL_NAMES = tuple(MODELS)


def model_from_dict(name, params):
    """The fitted model ``name`` rebuilt from what its ``to_dict()`` wrote."""
    return MODELS[name].model_class.from_dict(params)
