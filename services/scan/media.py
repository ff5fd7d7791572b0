"""Facts about a video file: container, codec, size, duration, audio, sha256."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import av

from models.spec import file_sha256
from realtime.sources.base import SourceError


@dataclass(frozen=True)
class MediaInfo:
    """What the report says about the input file."""

    path: Path
    sha256: str
    size_bytes: int
    container: str
    codec: str
    width: int
    height: int
    fps: float | None
    duration_s: float | None
    frame_count: int | None  # from the container header; None when it does not say
    audio_codec: str | None  # None: no audio stream

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path.resolve()),
            "name": self.path.name,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "container": self.container,
            "codec": self.codec,
            "width": self.width,
            "height": self.height,
            "fps": None if self.fps is None else round(self.fps, 3),
            "duration_s": None if self.duration_s is None else round(self.duration_s, 3),
            "frame_count": self.frame_count,
            "audio_codec": self.audio_codec,
        }


def probe(path: Path) -> MediaInfo:
    """Reads the container header of ``path`` (no decoding) and hashes the file."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise SourceError(f"no video stream in {path}")
            video = container.streams.video[0]
            audio = container.streams.audio[0] if container.streams.audio else None
            fps = float(video.average_rate) if video.average_rate else None
            if video.duration is not None and video.time_base is not None:
                duration_s: float | None = float(video.duration * video.time_base)
            elif container.duration is not None:
                duration_s = container.duration / av.time_base
            else:
                duration_s = None
            info = MediaInfo(
                path=path,
                sha256="",
                size_bytes=path.stat().st_size,
                container=container.format.name,
                codec=video.codec_context.name,
                width=video.codec_context.width,
                height=video.codec_context.height,
                fps=fps,
                duration_s=duration_s,
                frame_count=video.frames or None,
                audio_codec=audio.codec_context.name if audio is not None else None,
            )
    except (av.FFmpegError, OSError) as exc:
        raise SourceError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
    return replace(info, sha256=file_sha256(path))
