"""docs/results.md's tables, generated: run the configurations the page describes, keep what they measured.

One module per job: ``runs`` (the configurations, run as `dvc exp run -S ...` in a temporary copy of
the repository, and what they wrote in metrics/), ``data`` (docs/results.json, read strictly, and
``--compare``), ``tables`` (the Markdown of one configuration), ``page`` (the markers in
docs/results.md) and ``cli`` (the command line: ``python -m tools.results --help``).
"""
