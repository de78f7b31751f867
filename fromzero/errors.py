"""Errors the algorithms raise for problems in their input, not bugs in the code."""


class DivergenceError(ArithmeticError):
    """An iterative fit whose loss became non-finite or started to grow.

    Carries the step and the loss so the caller can name the learning rate that
    caused it in its own words, and, where the model knows it, ``stable_below``:
    the learning rate under which the descent cannot diverge.
    """

    def __init__(self, step, loss, reason, stable_below=None):
        self.step = step
        self.loss = loss
        self.reason = reason
        self.stable_below = stable_below
        super().__init__(f"loss {reason} at step {step} (loss={loss:.6g})")
