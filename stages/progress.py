"""A progress bar for long fits: on a terminal only, and only once a loop has run a couple of seconds."""

import sys

SHOW_AFTER_SECONDS = 2.0


def progress(name):
    """A wrapper for a fit's loop over its steps (``fit(X, y, progress=progress("gd"))``).

    On a terminal it shows a tqdm bar on stderr once the loop has run
    SHOW_AFTER_SECONDS, and removes it at the end; elsewhere (a pipe, a CI log,
    the tests) it returns the steps untouched and prints nothing.
    """

    def wrap(steps):
        if not sys.stderr.isatty():
            return steps
        from tqdm import tqdm  # comes with DVC; imported only when a bar can be seen

        return tqdm(steps, desc=name, delay=SHOW_AFTER_SECONDS, leave=False, file=sys.stderr, unit="step")

    return wrap
