"""Stage `gd`: gradient descent on the line (a plane for d > 1), with the tutorial's hand-derived partials.

    python -m stages.gd --train data/prepared/train.csv --model models/gd.json --cv models/gd.cv.json \
        --metrics metrics/gd.json --plot plots/gd/loss.csv
"""

from fromzero.errors import DivergenceError
from fromzero.gradient_descent import GradientDescentLinear
from stages.cli import StageError, divergence_message, stage_arguments, stage_main
from stages.crossval import cross_validation
from stages.files import loss_curve, read_xy, write_columns, write_json, write_model
from stages.progress import progress


def make_model(params):
    gd = params["gd"]
    return GradientDescentLinear(learning_rate=params["lr"], steps=gd["steps"], standardize=gd["standardize"],
                                 tol=gd["tol"], seed=params["seed"])


@stage_main
def main(argv=None):
    args, params = stage_arguments(argv, __doc__, "train", "model", "cv", "metrics", "plot")
    X, y = read_xy(args.train, params)
    model = make_model(params)
    try:
        model.fit(X, y, progress=progress("gd"))
    except DivergenceError as error:
        raise StageError(divergence_message(error, "lr", params["lr"])) from None
    folds = cross_validation("gd", lambda: make_model(params), X, y, params, rate=("lr", params["lr"]))

    write_columns(args.plot, loss_curve(model.loss_history_), digits=8)
    write_json(args.cv, folds)
    write_model(args.model, "gd", model)
    write_json(args.metrics, {"gd": {"train_mse": model.loss_history_[-1], "steps_run": model.n_steps_,
                                     "converged": model.converged_}})


if __name__ == "__main__":
    raise SystemExit(main())
