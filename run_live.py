#!/usr/bin/env python3
"""Entry point of the live deepfake video analyzer: `python run_live.py --help`."""

import os
import sys

# Idle OpenMP threads must not spin: on a small CPU the capture and face threads need the cores.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from app.cli import main  # after the environment: torch reads it on import

if __name__ == "__main__":
    sys.exit(main())
