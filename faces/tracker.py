"""Stable face track ids across frames (pure logic: no images, no threads).

Detections arrive every N frames; in between, a motion estimate moves each box. A detection
is matched to the existing track it overlaps most (greedy on IoU); what is left is matched by
distance when a detection of about the track's size lies within ``max_jump`` box sides of it (a
fast move, or frames a live source dropped); unmatched detections start new tracks; a track
unmatched for more than ``max_missed`` detection rounds has ended.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from faces.geometry import Box, iou


@dataclass
class Track:
    """One face followed over time."""

    track_id: int
    box: Box
    landmarks: tuple[tuple[float, float], ...] = ()
    missed_rounds: int = 0  # consecutive detection rounds without a matching detection
    hits: int = 1  # detections matched so far

    @property
    def confirmed(self) -> bool:
        """Seen at the latest detection round, so its box can be trusted for a crop."""
        return self.missed_rounds == 0


@dataclass
class TrackUpdate:
    """What changed in one detection round."""

    started: list[int] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)


class FaceTracker:
    """Assigns stable ids to face boxes; caps the number of faces followed at once."""

    def __init__(self, min_iou: float = 0.3, max_missed: int = 2, max_faces: int = 8, max_jump: float = 1.0) -> None:
        self.min_iou = min_iou
        self.max_jump = max_jump
        self.max_missed = max_missed
        self.max_faces = max_faces
        self._tracks: dict[int, Track] = {}
        self._next_id = 1
        self.faces_capped = 0  # most faces ignored in one detection round because max_faces were followed

    @property
    def tracks(self) -> list[Track]:
        return list(self._tracks.values())

    def update(self, detections: list[tuple[Box, tuple[tuple[float, float], ...]]]) -> TrackUpdate:
        """Matches one round of detections (largest first) to tracks."""
        update = TrackUpdate()
        pairs = sorted(
            (
                (iou(track.box, box), track_id, index)
                for track_id, track in self._tracks.items()
                for index, (box, _) in enumerate(detections)
            ),
            reverse=True,
        )
        matched_tracks: set[int] = set()
        matched_detections: set[int] = set()
        overlapping = [(track_id, index) for overlap, track_id, index in pairs if overlap >= self.min_iou]
        for track_id, index in [*overlapping, *self._near_pairs(detections)]:
            if track_id in matched_tracks or index in matched_detections:
                continue
            track = self._tracks[track_id]
            track.box, track.landmarks = detections[index]
            track.missed_rounds = 0
            track.hits += 1
            matched_tracks.add(track_id)
            matched_detections.add(index)
        for track_id, track in list(self._tracks.items()):
            if track_id not in matched_tracks:
                track.missed_rounds += 1
                if track.missed_rounds > self.max_missed:
                    del self._tracks[track_id]
                    update.ended.append(track_id)
        ignored = 0
        for index, (box, landmarks) in enumerate(detections):
            if index in matched_detections:
                continue
            if len(self._tracks) >= self.max_faces:
                ignored += 1
                continue
            track = Track(self._next_id, box, landmarks)
            self._tracks[track.track_id] = track
            update.started.append(track.track_id)
            self._next_id += 1
        self.faces_capped = max(self.faces_capped, ignored)
        return update

    def _near_pairs(self, detections: list[tuple[Box, tuple[tuple[float, float], ...]]]) -> list[tuple[int, int]]:
        """(track id, detection index) pairs of similar size within ``max_jump`` box sides, nearest first."""
        near = []
        for track_id, track in self._tracks.items():
            side = max(track.box.width, track.box.height)
            for index, (box, _) in enumerate(detections):
                if not 2 / 3 <= max(box.width, box.height) / side <= 3 / 2:
                    continue
                dx = box.center[0] - track.box.center[0]
                dy = box.center[1] - track.box.center[1]
                jump = (dx * dx + dy * dy) ** 0.5 / side
                if jump <= self.max_jump:
                    near.append((jump, track_id, index))
        return [(track_id, index) for _, track_id, index in sorted(near)]

    def move(self, track_id: int, box: Box) -> None:
        """Moves a track's box between detections (from a motion estimate)."""
        track = self._tracks.get(track_id)
        if track is None:
            return
        # Landmarks ride along with the box so alignment stays usable until the next detection.
        dx = box.center[0] - track.box.center[0]
        dy = box.center[1] - track.box.center[1]
        track.landmarks = tuple((x + dx, y + dy) for x, y in track.landmarks)
        track.box = box

    def end_all(self) -> list[int]:
        """Ends every track (end of stream or a cut to unrelated images)."""
        ended = list(self._tracks)
        self._tracks.clear()
        return ended
