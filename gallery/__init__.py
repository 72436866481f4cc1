"""The science behind the Deep Learning Experiments Gallery, usable without Streamlit."""

import os
from pathlib import Path

# Where the trainers and data-dependent tests find ../shared/data (override with GALLERY_DATA).
DATA_ROOT = Path(os.environ.get("GALLERY_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
