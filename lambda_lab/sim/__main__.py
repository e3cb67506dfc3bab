"""``python -m lambda_lab.sim``: see :mod:`lambda_lab.sim.cli`."""

import sys

from .cli import main

sys.exit(main())
