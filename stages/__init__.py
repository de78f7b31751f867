"""One thin script per DVC stage: read params and inputs, call the library, write outputs atomically."""

import sys

if sys.argv[:1] == ["-m"]:  # `python -m stages.<name>`, this package imported before the stage's module
    from stages.cli import guard_the_start

    guard_the_start()
