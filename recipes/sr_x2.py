"""Recipe: train the zoo's `srresnet-x2`; the same recipe as `sr_x4.py` at scale 2.

Usage:
    python recipes/sr_x2.py [--out /work/runs/srresnet-x2] [--data DIR] [--steps N]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sr_x4 import main  # noqa: E402

if __name__ == "__main__":
    main(2, sys.argv[1:])
