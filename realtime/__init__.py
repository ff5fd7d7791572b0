"""Live analysis engine: sources, frame queues, faces, windows, inference, verdicts."""
