"""Re-encodes a scanned file with face boxes, scores and a gauge drawn in; audio is copied unchanged."""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from common.decode import DecodedFrame, decoded_frames, demux_frames
from realtime.frames import Verdict
from realtime.verdicts import Judgement
from services.scan.atomic import atomic_path
from services.scan.overlay import draw_face, draw_gauge, draw_verdict
from services.scan.scan import ScanResult
from services.scan.segments import by_track

# Audio codecs an MP4/MOV file can carry as they are; Matroska takes anything.
MP4_AUDIO = frozenset({"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"})


class ExportError(Exception):
    """The export could not be written (or was stopped); nothing is left at the target."""


class ScoreTimeline:
    """Each face's score as the engine knew it at a frame: its newest window ending at or before it."""

    def __init__(self, verdicts: list[Verdict]) -> None:
        self._tracks = {
            track_id: ([v.last_frame for v in items], [v.p_fake for v in items])
            for track_id, items in by_track(verdicts).items()
        }

    def score(self, track_id: int, frame_index: int) -> float | None:
        ends, scores = self._tracks.get(track_id, ([], []))
        position = bisect_right(ends, frame_index) - 1
        return scores[position] if position >= 0 else None


def _upright_size(path: Path) -> tuple[int, int]:
    """Width and height of the first frame once upright, made even (H.264 4:2:0 needs even sides)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for item in decoded_frames(container, stream):
            height, width = item.upright_rgb().shape[:2]
            return width // 2 * 2, height // 2 * 2
    raise ExportError(f"no decodable video frame in {path}")


def export_video(
    source: Path,
    target: Path,
    result: ScanResult,
    on_progress: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
    judgement: Judgement | None = None,
) -> int:
    """Writes ``target`` (H.264, the frames and timestamps the scan analysed); returns the frames written.

    ``stop`` (set from a signal handler) abandons the export, leaving no partial file. ``judgement``: the
    video's verdict (its report's), written in words on every frame.
    """
    timeline = ScoreTimeline(result.verdicts)
    try:
        width, height = _upright_size(source)
        with av.open(str(source)) as reader, atomic_path(target) as temporary:
            video_in = reader.streams.video[0]
            video_in.thread_type = "AUTO"
            audio_in = reader.streams.audio[0] if reader.streams.audio else None
            audio_name = audio_in.codec_context.name if audio_in is not None else None
            if audio_name and target.suffix.lower() in (".mp4", ".m4v", ".mov") and audio_name not in MP4_AUDIO:
                raise ExportError(f"{audio_name} audio cannot be kept in {target.suffix}; export to .mkv instead")
            with av.open(str(temporary), mode="w") as writer:
                video_out = writer.add_stream("libx264", rate=video_in.average_rate or 25)
                video_out.width, video_out.height, video_out.pix_fmt = width, height, "yuv420p"
                video_out.time_base = video_in.time_base
                video_out.options = {"crf": "20", "preset": "veryfast"}
                audio_out = writer.add_stream_from_template(audio_in) if audio_in is not None else None
                others = [audio_in] if audio_in is not None else []
                written = 0
                for item in demux_frames(reader, video_in, *others):
                    if stop is not None and stop.is_set():
                        raise ExportError(f"export stopped; {target} was not written")
                    if not isinstance(item, DecodedFrame):
                        if item.dts is not None:  # flush packets carry no data
                            item.stream = audio_out
                            writer.mux(item)
                        continue
                    image = np.ascontiguousarray(item.upright_rgb()[:height, :width])
                    _annotate(image, item.index, result, timeline)
                    if judgement is not None:
                        draw_verdict(image, judgement.verdict, judgement.headline)
                    frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                    frame.pts, frame.time_base = item.frame.pts, item.frame.time_base
                    writer.mux(video_out.encode(frame))
                    written += 1
                    if on_progress is not None:
                        on_progress(written)
                writer.mux(video_out.encode())
    except (av.FFmpegError, OSError) as exc:
        raise ExportError(f"cannot export {target}: {str(exc).splitlines()[0]}") from None
    return written


def _annotate(image: np.ndarray, frame_index: int, result: ScanResult, timeline: ScoreTimeline) -> None:
    faces = result.faces_at(frame_index)
    scores = []
    for track_id, *box in faces.faces if faces is not None else ():
        p_fake = timeline.score(track_id, frame_index)
        draw_face(image, track_id, tuple(box), p_fake, result.threshold)
        if p_fake is not None:
            scores.append(p_fake)
    draw_gauge(image, max(scores, default=None), result.threshold)
