"""``python -m bridge.cli``: the same as the ``backup-codes`` command."""

import sys

from bridge.cli import main

sys.exit(main())
