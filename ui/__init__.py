"""The PyQt5 live window: video with face boxes, gauges, score timeline, alerts and playback controls.

Nothing here decodes video for analysis or calls the model: the engine runs on its own threads
and reaches the GUI thread only through :mod:`ui.bridge`'s queued Qt signals.
"""
