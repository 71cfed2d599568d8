"""``python -m aidahub.cli``: the ``aidahub`` command."""

import sys

from aidahub.cli import main

sys.exit(main())
