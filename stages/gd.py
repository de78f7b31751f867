"""Stage `gd`: gradient descent on the line, with the tutorial's hand-derived partials.

    python -m stages.gd --train data/prepared/train.csv --model models/gd.json \
        --metrics metrics/gd.json --plot plots/gd/loss.csv
"""

from fromzero.errors import DivergenceError
from fromzero.gradient_descent import GradientDescentLine
from stages.cli import StageError, divergence_message, stage_arguments, stage_main
from stages.files import loss_curve_frame, read_feature_target, write_csv, write_json


@stage_main
def main(argv=None):
    args, params = stage_arguments(argv, __doc__, "train", "model", "metrics", "plot")
    gd = params["gd"]
    x, y = read_feature_target(args.train, params)
    model = GradientDescentLine(learning_rate=params["lr"], steps=gd["steps"], standardize=gd["standardize"],
                                tol=gd["tol"], seed=params["seed"])
    try:
        model.fit(x, y)
    except DivergenceError as error:
        raise StageError(divergence_message(error, "lr", params["lr"])) from None

    write_csv(args.plot, loss_curve_frame(model.loss_history_), float_format="%.8g")
    write_json(args.model, {"k": model.k_, "b": model.b_}, digits=None)
    write_json(args.metrics, {"gd": {"train_mse": model.loss_history_[-1], "steps_run": model.n_steps_,
                                     "converged": model.converged_}})


if __name__ == "__main__":
    raise SystemExit(main())
