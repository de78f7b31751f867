"""A sweep spread over CI runners: expand overrides into a matrix, run one point, collect a leaderboard.

    python -m tools.sweep expand 'lr=0.1,0.01,0.001' 'knn.k=1,3' [--prefix sweep42]
    python -m tools.sweep run --set lr=0.1 --set knn.k=1 [--name NAME] [--remote NAME]   # or --entry '<item>'
    python -m tools.sweep collect [--remote NAME] [--prefix sweep42] [--sort gd.rmse] [--out sweep/leaderboard.md]

One module per job: ``grid`` (expand: the queue's syntax, each point validated as check_params
validates it, through project/params.py), ``runner`` (run: one experiment, pushed only where
``--remote`` says), ``collect`` (fetch and read the experiments) and ``leaderboard`` (the Markdown
table); ``cli`` is the command line, ``python -m tools.sweep --help`` its description.
"""
