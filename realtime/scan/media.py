"""Facts about a video file (container, codec, size, duration, audio) and which files are videos."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import av

from models.checkpoint import file_sha256
from realtime.sources.base import SourceError

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".flv", ".wmv"})


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
            "path": str(self.path),
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


def is_video_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES and not path.name.startswith(".")


def list_videos(folder: Path, recursive: bool) -> list[Path]:
    """Video files in ``folder`` (and below it when ``recursive``), in a stable sorted order."""
    candidates = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in candidates if is_video_file(p))
