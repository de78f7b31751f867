"""The project's files, read and written one way: params.yaml, models.yaml, the splits, the model folders.

The layer between the library (``fromzero/``, numpy in and out, no files) and the scripts that use it
(``stages/``, ``tools/``, ``bench/``): each of those reads params.yaml through ``project.params``,
reports a bad input as one ``project.errors.UserError`` line, and writes through ``project.files``.
Nothing here imports ``stages`` or ``tools``.
"""
