"""Faces in frames: detection, tracking with stable ids, crops and upright decoding.

Shared by the live engine (realtime/) and training data preparation (models/), so both see identical
crops; imports neither of them.
"""
