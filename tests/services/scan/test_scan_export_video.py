"""The annotated export: same frames, box in the score's colour on the face, audio kept."""

from __future__ import annotations

import av
import cv2
import numpy as np

from faces.detector import FaceDetector
from realtime.colors import RED
from realtime.sources.demo import render_face_frames, write_video
from services.scan import report_json
from services.scan.export_video import export_video
from services.scan.images import decode_png_base64
from services.scan.reports import report_paths
from tests.services.scan.scanning import make_scanner
from tests.support.rotated import rotated_clip


def decode(path):
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def audio_facts(path):
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(audio=0))
        return stream.codec_context.name, stream.codec_context.sample_rate, samples


def red_box_edges(result, exported, originals) -> int:
    """Frames (every 7th after the first verdict) whose face box's left edge is red in the export only."""
    first_scored = min(v.last_frame for v in result.verdicts)
    checked = 0
    for index in range(first_scored, len(exported), 7):
        faces = result.faces_at(index)
        assert faces is not None and faces.faces
        _, left, top, _right, bottom = faces.faces[0]
        x, y = round(left), round((top + bottom) / 2)
        # The box's left edge, a few pixels wide to allow for chroma subsampling.
        edge = exported[index][y - 3 : y + 4, max(0, x - 2) : x + 3].reshape(-1, 3).astype(int)
        assert np.abs(edge - np.array(RED)).sum(axis=1).min() < 90, f"frame {index}: no red at the face box edge"
        original = originals[index][y - 3 : y + 4, max(0, x - 2) : x + 3].reshape(-1, 3).astype(int)
        assert np.abs(original - np.array(RED)).sum(axis=1).min() > 150  # the red comes from the overlay
        checked += 1
    return checked


def test_export_keeps_frames_and_audio_and_draws_the_score_colour_at_the_face(
    face_clip_with_audio, small_checkpoint, tmp_path
):
    # A threshold under every score: every scored face is drawn red.
    scanner = make_scanner(small_checkpoint, explanations=0, threshold=0.01)
    outcome = scanner.scan(face_clip_with_audio, report_paths(face_clip_with_audio, tmp_path))
    assert outcome.status == "scanned" and outcome.report["file"]["audio_codec"] == "aac"
    target = tmp_path / "annotated.mp4"
    written = export_video(face_clip_with_audio, target, outcome.result)

    source_frames, exported = decode(face_clip_with_audio), decode(target)
    assert written == len(exported) == len(source_frames) == 50
    name, rate, samples = audio_facts(target)
    assert (name, rate) == ("aac", 48_000) and abs(samples - audio_facts(face_clip_with_audio)[2]) <= 1024

    assert red_box_edges(outcome.result, exported, source_frames) >= 4
    assert not list(tmp_path.glob(".annotated.mp4.*"))  # the temporary file was renamed, not left behind


def test_export_of_a_rotated_phone_clip_is_upright_with_boxes_on_the_face(small_checkpoint, tmp_path):
    upright = render_face_frames(30)  # 360 x 640
    rotated = rotated_clip(tmp_path, upright)

    scanner = make_scanner(small_checkpoint, explanations=1, threshold=0.01)
    outcome = scanner.scan(rotated, report_paths(rotated, tmp_path))
    assert outcome.status == "scanned" and outcome.result.verdicts
    export_video(rotated, tmp_path / "upright.mp4", outcome.result)
    exported = decode(tmp_path / "upright.mp4")
    assert len(exported) == 30 and exported[0].shape == (360, 640, 3)
    assert red_box_edges(outcome.result, exported, upright) >= 2
    # The explained crop was cut from the upright frame too: the face detector finds a face in it.
    crop = decode_png_base64(outcome.report["explanations"][0]["crop_png"])
    assert FaceDetector().detect(cv2.resize(crop, (192, 192)))


def test_damaged_packets_are_reported_and_the_export_keeps_the_frames_the_scan_saw(small_checkpoint, tmp_path):
    clip = write_video(tmp_path / "clip.mp4", render_face_frames(60))
    data = bytearray(clip.read_bytes())
    rng = np.random.default_rng(0)
    for offset in range(len(data) // 2, len(data) // 2 + 3000, 7):
        data[offset] = int(rng.integers(0, 256))
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))

    outcome = make_scanner(small_checkpoint, explanations=1).scan(damaged, report_paths(damaged, tmp_path))
    report = outcome.report
    report_json.validate(report)
    assert report["file"]["damaged_packets"] > 0 and report["file"]["damaged_spans_s"]
    assert "damaged video packet(s) skipped" in outcome.paths.html.read_text()
    written = export_video(damaged, tmp_path / "annotated.mp4", outcome.result)
    assert written == len(decode(tmp_path / "annotated.mp4")) == report["run"]["frames_read"] < 60
