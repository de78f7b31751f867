"""Stage `random_search`: the tutorial's Monte Carlo guesses at integer k and b.

    python -m stages.random_search --train data/prepared/train.csv --model models/random_search.json \
        --metrics metrics/random_search.json --plot plots/random_search/search.csv
"""

import numpy as np

from fromzero.random_search import RandomSearchLine
from stages.cli import stage_arguments, stage_main
from stages.files import read_feature_target, write_csv, write_json


@stage_main
def main(argv=None):
    args, params = stage_arguments(argv, __doc__, "train", "model", "metrics", "plot")
    search = params["random_search"]
    x, y = read_feature_target(args.train, params)
    model = RandomSearchLine(trials=search["trials"], low=search["low"], high=search["high"],
                             seed=params["seed"]).fit(x, y)

    import pandas as pd

    write_csv(args.plot, pd.DataFrame({
        "trial": np.arange(1, search["trials"] + 1),
        "loss": model.loss_history_,
        "best_loss": model.best_loss_history_,
    }), float_format="%.6g")
    write_json(args.model, {"k": model.k_, "b": model.b_}, digits=None)
    write_json(args.metrics, {"random_search": {"train_mse": model.best_loss_, "trial": model.best_trial_ + 1}})


if __name__ == "__main__":
    raise SystemExit(main())
