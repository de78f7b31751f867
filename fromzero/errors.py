"""Errors the algorithms raise for problems in their input, not bugs in the code."""


class DivergenceError(ArithmeticError):
    """An iterative fit whose loss became non-finite or started to grow.

    Carries the step and the loss so the caller can name the learning rate that
    caused it in its own words.
    """

    def __init__(self, step, loss, reason):
        self.step = step
        self.loss = loss
        self.reason = reason
        super().__init__(f"loss {reason} at step {step} (loss={loss:.6g})")
