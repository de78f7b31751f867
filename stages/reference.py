"""Stages `baseline` and `least_squares`: the yardsticks every model is scored beside.

    python -m stages.reference --name least_squares --train data/prepared/train.csv \
        --model models/least_squares.json --cv models/least_squares.cv.json

`baseline` predicts the training mean; `least_squares` is the tutorial's
"method 1", the exact answer for a line (a plane for d > 1), by lstsq.
"""

from fromzero.baseline import MeanBaseline
from fromzero.linear import LeastSquares
from stages.cli import stage_arguments, stage_main
from stages.crossval import cross_validation
from stages.files import read_xy, write_json, write_model

REFERENCES = {"baseline": MeanBaseline, "least_squares": LeastSquares}


def make_model(name):
    return REFERENCES[name]()


@stage_main
def main(argv=None):
    args, params = stage_arguments(argv, __doc__, "train", "model", "cv", choices={"name": REFERENCES})
    X, y = read_xy(args.train, params)
    folds = cross_validation(args.name, lambda: make_model(args.name), X, y, params)
    model = make_model(args.name).fit(X, y)
    write_json(args.cv, folds)
    write_model(args.model, args.name, model)


if __name__ == "__main__":
    raise SystemExit(main())
