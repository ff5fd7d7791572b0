"""Frame sources: files, streams, webcams, screen regions, images, and the built-in demo."""

from realtime.sources.base import FrameSource, SourceError
from realtime.sources.factory import open_source_spec

__all__ = ["FrameSource", "SourceError", "open_source_spec"]
