"""One progress bar for a whole stage: on a terminal only, once the stage has run a couple of seconds.

A fit stage runs several loops (the fit, each cross-validation fold, each extra seed); each is one
phase of the same bar, so something stays on screen from the first slow step to the last fold.
"""

import sys
import time

SHOW_AFTER_SECONDS = 2.0


class StageProgress:
    """``phase(label)`` returns a wrapper for a fit's loop (``fit(X, y, progress=bar.phase("fold 2/5"))``).

    On a terminal a tqdm bar appears on stderr once the stage has run SHOW_AFTER_SECONDS (counted from
    the first phase, not per phase), labelled with the current phase, and is removed by ``close()``;
    elsewhere (a pipe, a CI log, the tests) the loops run untouched and nothing is printed.
    """

    def __init__(self, name, stream=None):
        self.name, self.stream = name, stream or sys.stderr
        self.started, self.bar = None, None

    def phase(self, label):
        def wrap(steps):
            if not self.stream.isatty():
                return steps
            return self._count(steps, label)
        return wrap

    def _count(self, steps, label):
        from tqdm import tqdm  # comes with DVC; imported only when a bar can be seen

        self.started = self.started or time.monotonic()
        for step in steps:
            if self.bar is None and time.monotonic() - self.started >= SHOW_AFTER_SECONDS:
                self.bar = tqdm(desc=self.name, leave=False, file=self.stream, unit="step")
            if self.bar is not None:
                if self.bar.postfix != label:
                    self.bar.set_postfix_str(label, refresh=False)
                self.bar.update(1)
            yield step

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
