"""``python -m sklearn_gdlogreg``: see :mod:`sklearn_gdlogreg.cli`."""

import sys

from .cli import main

sys.exit(main())
