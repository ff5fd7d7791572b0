"""Whole-file scans of recorded video: reports (JSON, CSV, HTML, SRT), annotated export, explanations, resume."""
