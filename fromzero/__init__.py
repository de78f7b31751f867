"""fromzero: the algorithms of "neural networks from zero", one small module each.

numpy in, numpy out; no file I/O. The stage scripts in ``stages/`` do the reading
and writing, this package does the learning.
"""

from fromzero.errors import DivergenceError, SettingError

__all__ = ["DivergenceError", "SettingError"]
