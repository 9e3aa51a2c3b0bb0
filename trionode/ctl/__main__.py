"""`python -m trionode.ctl` and the `trionodectl` console script."""

from __future__ import annotations

import os
import sys

from .cli import BROKEN_PIPE, main


def run() -> None:
    code = main(sys.argv[1:])
    if code == BROKEN_PIPE:
        # stdout is gone: keep Python's exit-time flush from reporting it again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(code)


if __name__ == "__main__":
    run()
