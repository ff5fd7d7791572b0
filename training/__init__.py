"""Training and evaluation of detectors: crop and feature caches, synthesis, trainers, calibration,
evaluation, model card. Never imported by the runtime (app/, ui/, services/, realtime/)."""
