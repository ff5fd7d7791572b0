"""Turns a ``--source`` string into the right source object."""

from __future__ import annotations

from pathlib import Path

from common.urls import mask_url
from realtime.config import EngineConfig
from realtime.sources.av_source import AvSource, is_stream_url
from realtime.sources.base import FrameSource, SourceError
from realtime.sources.demo import demo_clip
from realtime.sources.images import IMAGE_SUFFIXES, ImageSource
from realtime.sources.reconnect import ReconnectingSource, ReconnectPolicy
from realtime.sources.screen import ScreenSource, parse_region
from realtime.sources.webcam import WebcamSource
from realtime.status import StatusCallback

SOURCE_FORMS = "a video/image file, a folder of images, webcam:N, screen: or screen:x,y,w,h, or an rtsp/http(s) URL"


def names_live_source(spec: str | None) -> bool:
    """Whether a ``--source`` value names a live source (a webcam, a screen, a network stream): one that runs
    in real time and drops what analysis cannot keep up with, unlike files, folders and the demo clip."""
    return spec is not None and ("://" in spec or spec.startswith(("webcam:", "screen:")))


def open_source_spec(
    spec: str | None,
    *,
    realtime: bool = False,
    read_timeout_s: float = 10.0,
    sample_every: int = 1,
    reconnect: ReconnectPolicy | None = None,
    on_status: StatusCallback | None = None,
) -> FrameSource:
    """The source a ``--source`` value names (None: the built-in demo clip). Not opened yet.

    ``sample_every`` thins video files only; live sources already drop what analysis cannot take.
    Network streams reconnect per ``reconnect`` and report outages through ``on_status``.
    """
    if spec is None:
        return AvSource(str(demo_clip()), live=False, realtime=realtime, sample_every=sample_every)
    if names_live_source(spec):
        return _live_source(spec, read_timeout_s, reconnect or ReconnectPolicy(), on_status)
    path = Path(spec)
    if not path.exists():
        raise SourceError(f"source not found: {spec}")
    if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageSource(path)
    return AvSource(str(path), live=False, realtime=realtime, sample_every=sample_every)


def _live_source(
    spec: str, read_timeout_s: float, reconnect: ReconnectPolicy, on_status: StatusCallback | None
) -> FrameSource:
    """The webcam, screen or network stream ``spec`` names."""
    if spec.startswith("webcam:"):
        index = spec.removeprefix("webcam:")
        if not index.isdigit():
            raise SourceError(f"webcam source must be webcam:N with a device index, not {spec!r}")
        return WebcamSource(int(index))
    if spec.startswith("screen:"):
        return ScreenSource(parse_region(spec.removeprefix("screen:")))
    if not is_stream_url(spec):
        raise SourceError(f"unknown source scheme in {mask_url(spec)!r}; expected {SOURCE_FORMS}")
    scheme = spec.split("://", 1)[0].lower()
    return ReconnectingSource(
        lambda: AvSource(spec, live=True, open_timeout_s=read_timeout_s, read_timeout_s=read_timeout_s),
        mask_url(spec),
        reconnect,
        reconnect_on_end=scheme not in ("http", "https"),
        on_status=on_status,
    )


def reconnect_policy(config: EngineConfig) -> ReconnectPolicy:
    """How hard network streams are retried, from the configuration."""
    return ReconnectPolicy(config.reconnect_attempts, max_delay_s=config.reconnect_max_delay_s)


def open_configured_source(
    config: EngineConfig, spec: str | None, on_status: StatusCallback | None = None
) -> FrameSource:
    """The source ``spec`` names (None: the demo clip), not opened yet, with the configured pacing,
    sampling, read timeout and reconnect policy. Raises SourceError for a source that cannot exist."""
    return open_source_spec(
        spec,
        realtime=config.realtime,
        read_timeout_s=config.read_timeout_s,
        sample_every=config.sample_every,
        reconnect=reconnect_policy(config),
        on_status=on_status,
    )
