"""Recipe: train the zoo's `srresnet-x2` (`sr_zoo.py srresnet-x2`; see that file).

Usage:
    python recipes/sr_x2.py [--out ~/i2i-runs/srresnet-x2] [--data DIR] [--steps N]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sr_zoo import main  # noqa: E402

if __name__ == "__main__":
    main("srresnet-x2", sys.argv[1:])
