"""Training and evaluation of detectors: crop and feature caches, synthesis, trainers, calibration,
evaluation, model card. Never imported by the runtime (app/, ui/, services/, realtime/, models/, faces/, common/)."""

import os

# As in models/: idle OpenMP threads must not spin while data loader workers need the cores. Set here, before
# any training module loads torch (they may import torch before anything of models/).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
