"""Face thumbnails: the window's result store and the stream grid cut faces alike, undistorted."""

from __future__ import annotations

import numpy as np

from faces.geometry import Box
from realtime.frames import AnalyzedFrame, Frame, TrackedFace
from ui.results import ResultStore
from ui.thumbnail import THUMBNAIL_PX, face_thumbnail


def test_a_tall_face_keeps_its_shape_and_the_store_keeps_that_thumbnail():
    image = np.zeros((200, 200, 3), np.uint8)
    image[60:140, 80:120] = 255  # a white face box, twice as tall as wide
    box = Box(80, 60, 120, 140)
    thumbnail = face_thumbnail(image, box)
    assert thumbnail.shape == (THUMBNAIL_PX, THUMBNAIL_PX, 3)
    white_columns = np.flatnonzero(thumbnail[THUMBNAIL_PX // 2, :, 0] > 128)
    assert abs(len(white_columns) - THUMBNAIL_PX / 2) <= 2  # half as wide as tall, centred: not stretched
    assert abs(white_columns.mean() - (THUMBNAIL_PX - 1) / 2) <= 1
    store = ResultStore()
    store.add_frame(AnalyzedFrame("clip", Frame(0, 0.0, 0.0, image), (TrackedFace(1, box),)))
    assert np.array_equal(store.thumbnail(1, 0), thumbnail)
