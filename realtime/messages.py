"""What face stages send to the inference thread besides crops: the end of a face's track, the end of a stream."""

from __future__ import annotations

from dataclasses import dataclass

from realtime.frames import FaceCrop


@dataclass(frozen=True)
class TrackEnded:
    """A face left (or its stream ended): flush and forget its window ring."""

    source: str
    track_id: int


@dataclass(frozen=True)
class StreamEnded:
    """No more messages will come from this source."""

    source: str


InferenceMessage = FaceCrop | TrackEnded | StreamEnded
