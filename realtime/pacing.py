"""Which crops of a face the model embeds: every one, a fixed number per second of video, or the newest.

A CNN crop costs milliseconds and every crop can be embedded; a CLIP forward costs ~0.25 s on two
CPU cores, so there the engine samples. The engine builder resolves one :class:`CropPacing` per
source (``realtime.engine``); the face loop applies it with a :class:`CropGate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from realtime.frames import FaceCrop

# Frames' timestamps are rounded by containers: a crop this close to its due time counts as due.
PTS_TOLERANCE_S = 1e-3


class PacingMode(StrEnum):
    EVERY = "every"  # every crop, windows every ``stride`` crops (GPU, or a model cheap enough)
    SAMPLED = "sampled"  # files and scans: a fixed number of crops per second of video per face (reproducible)
    NEWEST = "newest"  # live sources on a CPU: each face's newest crop waits, older ones are replaced


@dataclass(frozen=True)
class CropPacing:
    mode: PacingMode = PacingMode.EVERY
    crops_per_second: float = 0.0  # SAMPLED: crops per second of video per face

    def __post_init__(self) -> None:
        if self.mode is PacingMode.SAMPLED and self.crops_per_second <= 0:
            raise ValueError("sampled pacing needs a positive number of crops per second")

    @property
    def describe(self) -> str:
        """How a summary or a status line names it."""
        if self.mode is PacingMode.SAMPLED:
            return f"{self.crops_per_second:g} crops/s per face"
        return "newest crop per face" if self.mode is PacingMode.NEWEST else "every crop"


class CropGate:
    """Applies a pacing to one source's crops (its face loop owns it: no locking)."""

    def __init__(self, pacing: CropPacing) -> None:
        self.pacing = pacing
        self._next_due_s: dict[int, float] = {}  # track id -> pts at which its next crop is due
        self.passed = 0
        self.held_back = 0

    @property
    def newest_only(self) -> bool:
        """Crops go to the newest-crop slots of the inbox instead of its ordered queue."""
        return self.pacing.mode is PacingMode.NEWEST

    def admit(self, crop: FaceCrop) -> bool:
        """Whether the crop goes on to the model. Sampling counts in video time, so a file's
        report does not depend on how fast the machine decoded it."""
        if self.pacing.mode is PacingMode.SAMPLED:
            due_s = self._next_due_s.get(crop.track_id)
            if due_s is not None and crop.pts_s < due_s - PTS_TOLERANCE_S:
                self.held_back += 1
                return False
            period_s = 1.0 / self.pacing.crops_per_second
            # The next crop is due one period after this one was due, so frame spacing adds no drift;
            # after a gap of more than a period (a face lost for a while), one period after this crop.
            late = due_s is None or crop.pts_s >= due_s + period_s
            self._next_due_s[crop.track_id] = (crop.pts_s if late else due_s) + period_s
        self.passed += 1
        return True

    def forget(self, track_id: int) -> None:
        self._next_due_s.pop(track_id, None)
