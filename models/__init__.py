"""Deepfake detector models: backbones, temporal heads, checkpoints, training and evaluation."""
