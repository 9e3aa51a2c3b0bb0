"""Tests of the scripts in scripts/: that directory is not a package on the import path, so
put it there (as the entry scripts do for themselves) to let tests `import chaoslib`."""

import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))
