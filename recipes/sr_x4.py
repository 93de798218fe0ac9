"""Recipe: train the zoo's `srresnet-x4` (`sr_zoo.py srresnet-x4`; see that file).

Usage:
    python recipes/sr_x4.py [--out ~/i2i-runs/srresnet-x4] [--data DIR] [--steps N]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sr_zoo import main  # noqa: E402

if __name__ == "__main__":
    main("srresnet-x4", sys.argv[1:])
