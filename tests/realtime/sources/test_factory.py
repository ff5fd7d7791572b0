"""Which --source values name live sources: the one answer the command line and the source factory share."""

from __future__ import annotations

import cv2
import pytest

from realtime.sources.demo import render_face_frames, write_video
from realtime.sources.factory import names_live_source, open_source_spec


@pytest.mark.parametrize(
    ("spec", "live"),
    [
        ("webcam:0", True),
        ("screen:", True),
        ("screen:0,0,320,240", True),
        ("rtsp://user:pw@cam/main", True),
        ("https://example.org/live.m3u8", True),
        ("clip.mp4", False),
        ("folder/of/images", False),
        (None, False),  # the demo clip
    ],
)
def test_live_sources_are_named_by_their_form(spec, live):
    assert names_live_source(spec) is live


def test_the_factory_opens_a_live_source_exactly_for_the_specs_named_live(tmp_path):
    clip = write_video(tmp_path / "clip.mp4", render_face_frames(3))
    image = tmp_path / "face.png"
    cv2.imwrite(str(image), render_face_frames(1)[0])
    for spec in ("webcam:0", "screen:0,0,320,240", "rtsp://127.0.0.1:9/camera", str(clip), str(image), str(tmp_path)):
        source = open_source_spec(spec)  # built, not opened: nothing connects or captures
        assert source.is_live is names_live_source(spec), spec
