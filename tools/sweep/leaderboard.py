"""The sweep's leaderboard: rows sorted by a metric, and the Markdown table a person reads.

Every name, params value and model in it comes from pushed refs and committed files, so each is shown
as data (tools/markdown.py's ``code``, whole: the JSON beside it holds the same rows).
"""

import math
import re

from project.errors import UserError
from project.yamlfile import shown
from tools.markdown import code

EVALUATE_METRICS = "metrics/evaluate.json"


def sort_key(metric, baseline=None):
    """Rows sort by '<model>.<metric>' (e.g. gd.rmse) or 'best': each row's lowest test RMSE of a model other than
    models.yaml's ``baseline`` (the yardstick, never the best)."""
    def key(row):
        if metric == "best":
            return min((values["rmse"] for model, values in row["metrics"].items() if model != baseline),
                       default=math.inf)
        model, _, name = metric.partition(".")
        value = row["metrics"].get(model, {}).get(name or "rmse")
        return (value is None, value if value is not None else 0.0)
    return key


def check_sort(metric, rows=None):
    """Refuse a --sort that is not 'best' or '<model>[.<metric>]', or (given rows) names nothing in them."""
    if metric == "best":
        return
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,100}(\.[A-Za-z0-9_]{1,100})?", metric):
        raise UserError(f"--sort {shown(metric)}: expected <model>.<metric> (e.g. gd.rmse) or best")
    model, _, name = metric.partition(".")
    if rows is not None and not any((name or "rmse") in row["metrics"].get(model, {}) for row in rows):
        models = sorted({model for row in rows for model in row["metrics"]})
        raise UserError(f"--sort {metric!r}: no experiment has it in {EVALUATE_METRICS}; "
                        f"its models are {', '.join(models)}")


def leaderboard_markdown(rows, metric, title):
    """The leaderboard as Markdown: the baseline revision's row first, then the experiments in ``rows``' order."""
    models = sorted({model for row in rows for model in row["metrics"]},
                    key=lambda model: min(row["metrics"].get(model, {}).get("rmse", float("inf")) for row in rows))
    header = ["#", "experiment", "params changed"] + [f"{code(model, limit=None)} RMSE" for model in models]
    lines = [f"# {title}", "",
             f"{len(rows) - 1} experiments of {rows[0]['rev'][:7]}, sorted by {code(metric, cell=False, limit=None)} "
             f"(test split, lower is better); every model's test RMSE from `{EVALUATE_METRICS}`.", "",
             "| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for rank, row in enumerate(rows, 1):
        changed = ", ".join(code(f"{key}={value}", limit=None) for key, value in row["params"].items()) or "–"
        cells = [str(rank), f"**{code(row['name'], limit=None)}**", changed]
        cells += [f"{row['metrics'][model]['rmse']:.3f}" if model in row["metrics"] else "–" for model in models]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
