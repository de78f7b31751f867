"""docs/tutorial.md, generated: the blog post's story retold step by step with one run's numbers and pictures.

    python -m tools.tutorial            # write docs/tutorial.md and its pictures, docs/tutorial/*.png
    python -m tools.tutorial --check    # exit 1 when they differ from what the outputs give

Why a tool and not a DVC stage:

- The page's last section reads docs/results.json, which `python -m tools.results` measures by running
  the pipeline itself (`dvc exp run -S ...`) in temporary copies. As a stage, the page would depend on a
  file made by runs of its own pipeline, or lose that section.
- docs/ is the manual, committed in git and changed on purpose. A stage's outputs are rewritten by every
  `dvc exp run`: an experiment such as `-S knn.k=5` would rewrite the committed page and its pictures in
  the workspace, and the page would drift with whatever was tried last.
- Nothing downstream reads the page, so a stage would add matplotlib drawing to every `dvc repro` for
  nothing, and edits to dvc.yaml and its tests.

What a tool gives up, it gets back the way docs/results.md does: tests/test_tutorial.py regenerates the
page and its pictures from the committed outputs and fails when a byte differs, and the page names the
run it describes by the params it shows and by a fingerprint of dvc.lock's params and outputs (a page cannot name the git commit it
is committed in: that commit's hash covers the page).

One module per job: ``run`` (read the outputs: params, metrics, the splits, the fitted models,
docs/results.json), ``facts`` (what the page computes from them: the lookup table, the ties of KNN, the
net's gradient three ways), ``pictures`` (the figures, in stages/figures.py's look), ``words`` (numbers
and verdicts as text), ``steps_data``, ``steps_lines`` and ``steps_net`` (the sections, in the story's
order), ``page`` (the whole page) and ``cli`` (the command line).
"""
