"""How the models look, in every plot template and in the report: colours and line styles.

Presentation only: of the pipeline, only the `plot_templates` stage reads it (it writes the DVC plot
templates, plots/templates/), so changing a colour reruns that stage and nothing else; the report
(tools/report.py) reads it too. A model missing here still draws: it takes the next colour of
FALLBACK, in the order of models.yaml.
"""

MODEL_COLORS = {  # one colour per model, the same in every DVC plot and in the report (ColorBrewer Dark2)
    "baseline": "#9e9e9e",
    "least_squares": "#000000",
    "knn": "#1b9e77",
    "random_search": "#d95f02",
    "gd": "#7570b3",
    "net": "#e7298a",
}
FALLBACK = ["#66a61e", "#e6ab02", "#a6761d", "#1f78b4", "#b15928", "#6a3d9a", "#33a02c", "#fb9a99"]


def model_colors(names):
    """{name: colour} for the models ``names``, in their order; models without a colour take FALLBACK's next."""
    spare = iter([color for color in FALLBACK if color not in MODEL_COLORS.values()])
    return {name: MODEL_COLORS.get(name) or next(spare, "#777777") for name in names}
