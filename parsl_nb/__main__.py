"""``python -m parsl_nb``: the same command line as the ``parsl-nb`` script."""

import sys

from parsl_nb.cli import main

if __name__ == "__main__":
    sys.exit(main())
