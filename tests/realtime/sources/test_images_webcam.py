"""Still images, folders of them, and webcams that are not there."""

import threading

import cv2
import pytest

from realtime.sources.base import SourceError
from realtime.sources.demo import portrait
from realtime.sources.factory import open_source_spec
from realtime.sources.webcam import WebcamSource, available_webcams


def test_image_folder_yields_each_image_as_its_own_clip_and_skips_junk(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), portrait()[:, :, ::-1])
    cv2.imwrite(str(tmp_path / "b.jpg"), portrait()[:, ::-1, ::-1])
    (tmp_path / "c.png").write_bytes(b"not an image")
    (tmp_path / "notes.txt").write_text("ignored")
    source = open_source_spec(str(tmp_path))
    assert source.still_images
    source.open()
    frames = list(source.frames(threading.Event()))
    assert [f.name for f in frames] == ["a.png", "b.jpg"]
    assert len({f.clip_id for f in frames}) == 2
    assert source.skipped == ["c.png"]


def test_empty_folder_is_an_error(tmp_path):
    source = open_source_spec(str(tmp_path))
    with pytest.raises(SourceError, match="no images"):
        source.open()


def test_missing_webcam_lists_the_cameras_present():
    missing = max(available_webcams(), default=-1) + 7
    with pytest.raises(SourceError, match=r"no webcam with index \d+; cameras present: "):
        WebcamSource(missing).open()
