"""Suspicious segments as SubRip subtitles, so any video player shows them over the video."""

from __future__ import annotations

from typing import Any

from realtime.verdicts import percent

MIN_CUE_S = 1.0  # a single-window segment still stays on screen long enough to read


def srt_time(seconds: float) -> str:
    """``HH:MM:SS,mmm``."""
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"


def report_srt(report: dict[str, Any]) -> str:
    """One cue per suspicious segment (empty text when there is none): the face and its peak, then the
    video's verdict in words (a video with suspicious segments is never "Likely real")."""
    result = report["result"]
    cues = []
    for number, segment in enumerate(result["suspicious_segments"], start=1):
        start, end = segment["start_s"], max(segment["end_s"], segment["start_s"] + MIN_CUE_S)
        text = (
            f"face #{segment['track_id']} suspicious: peak {percent(segment['peak_p_fake'])} "
            f"at {segment['peak_at_s']:.1f} s (threshold {percent(result['threshold'])})\n"
            f"video: {result['headline']}"
        )
        cues.append(f"{number}\n{srt_time(start)} --> {srt_time(end)}\n{text}\n")
    return "\n".join(cues)
