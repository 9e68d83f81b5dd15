"""``python -m bridge.realm``: the realm installer without the ``backup-codes`` CLI."""

import os
import sys

from bridge.realm.cli import main

os.environ.setdefault("PYTHONUNBUFFERED", "1")
sys.exit(main())
