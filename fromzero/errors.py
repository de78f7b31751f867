"""Errors the algorithms raise for problems in their input, not bugs in the code.

Both carry what a caller needs to say the problem in its own words, as fields, so nobody parses
the message: the setting (a constructor argument) that does not suit the data, its value, and
which way to move it.
"""

ADVICE = ("lower", "raise", "change")


class SettingError(ValueError):
    """A setting that does not suit the data (or is not a value it can take at all).

    ``setting``: the constructor argument; ``value``: its value; ``problem``: what is wrong, in
    words, without the advice; ``advice``: "lower", "raise" or "change". ``str()`` is
    "<problem>; <advice> <setting>". A ValueError, so scikit-learn's checks see the error they expect.
    """

    def __init__(self, setting, value, problem, advice="change"):
        if advice not in ADVICE:
            raise ValueError(f"advice must be one of {ADVICE}, got {advice!r}")
        self.setting, self.value, self.problem, self.advice = setting, value, problem, advice
        super().__init__(f"{problem}; {advice} {setting}")


class DivergenceError(SettingError):
    """An iterative fit whose loss became non-finite or started to grow: its rate is too large.

    Carries the step and the loss, the ``reason`` in words, and, where the model knows it,
    ``stable_below``: the rate under which the descent cannot diverge. ``setting`` is the
    rate's argument (the class's ``abilities.diverges_with[0]``); the model sets it when it raises.
    """

    def __init__(self, step, loss, reason, stable_below=None, setting="learning_rate", value=None):
        self.step, self.loss, self.reason, self.stable_below = step, loss, reason, stable_below
        super().__init__(setting, value, f"the loss {reason} at step {step} (loss={loss:.4g})", "lower")
