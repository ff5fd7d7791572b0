"""The report set of a real scan: schema, CSV and SRT agree with the JSON, segments follow the scores."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from dataclasses import replace

import jsonschema
import numpy as np
import pytest

from models.checkpoint import read_checkpoint
from realtime.sources.demo import write_video
from realtime.summary import TIME_BUCKET_S
from services.scan import report_json
from services.scan.media import probe
from services.scan.report_csv import report_csv
from services.scan.report_srt import report_srt
from services.scan.reports import report_paths
from tests.services.scan.scanning import make_scanner


def load(path):
    with open(path) as handle:
        return json.load(handle)


def test_json_report_follows_the_schema_and_describes_the_file(one_face_scan, one_face_clip):
    report = load(one_face_scan.paths.json)
    report_json.validate(report)
    assert report["complete"] and report["file"]["frame_count"] == 75 and report["file"]["width"] == 640
    assert report["file"]["fps"] == 25.0 and abs(report["file"]["duration_s"] - 3.0) < 0.05
    assert report["file"]["audio_codec"] is None and report["file"]["path"] == str(one_face_clip.resolve())
    assert report["run"]["frames_read"] == report["run"]["frames_analyzed"] == 75
    assert [t["track_id"] for t in report["tracks"]] == [1] and len(report["tracks"][0]["windows"]) >= 30
    assert report["result"]["verdict"] == "untrained" and "untrained" in report["warning"]
    assert len(report["explanations"]) == 2 and report["settings"]["explanations"] == 2


def test_schema_rejects_what_it_should(one_face_scan):
    report = load(one_face_scan.paths.json)
    broken = [
        {**report, "schema_version": report_json.SCHEMA_VERSION + 1},
        {**report, "result": {**report["result"], "verdict": "maybe"}},
        {**report, "file": {k: v for k, v in report["file"].items() if k != "sha256"}},
        {**report, "tracks": [{**report["tracks"][0], "max_p_fake": 1.5}]},
    ]
    for candidate in broken:
        with pytest.raises(jsonschema.ValidationError):
            report_json.validate(candidate)


def moments(report):
    """Max over faces of window scores per half-second bucket of window end time (the engine's definition)."""
    buckets = {}
    for track in report["tracks"]:
        for window in track["windows"]:
            key = int(window["end_s"] // TIME_BUCKET_S)
            if key not in buckets or window["p_fake"] > buckets[key]["p_fake"]:
                buckets[key] = window
    return [buckets[k] for k in sorted(buckets)]


def rebuilt_at(outcome, checkpoint, threshold):
    """The report of the same scan read at another threshold (segments recomputed, nothing rescanned)."""
    spec, _ = read_checkpoint(checkpoint)
    identity = report_json.ModelIdentity(str(checkpoint), None, spec)
    result = replace(outcome.result, threshold=threshold)
    settings = {**outcome.report["settings"], "threshold": threshold}
    return report_json.build_report(probe(outcome.video), identity, settings, result, [], "cpu", "torch")


def test_segments_follow_the_scores(one_face_scan, small_checkpoint):
    scores = sorted(v.p_fake for v in one_face_scan.result.verdicts)
    threshold = scores[len(scores) // 2]  # the median: some moments at or above it, some below
    report = rebuilt_at(one_face_scan, small_checkpoint, threshold)
    report_json.validate(report)
    segments = report["result"]["suspicious_segments"]
    windows = [w for t in report["tracks"] for w in t["windows"]]
    assert segments and any(m["p_fake"] < threshold for m in moments(report))
    for moment in moments(report):
        covered = any(s["start_s"] <= moment["start_s"] and moment["end_s"] <= s["end_s"] for s in segments)
        if moment["p_fake"] >= threshold:
            assert covered, f"{moment} is at or above the threshold but in no segment"
    for segment in segments:
        inside = [w for w in windows if w["start_s"] >= segment["start_s"] and w["end_s"] <= segment["end_s"]]
        assert segment["peak_p_fake"] == max(w["p_fake"] for w in inside) >= threshold
        assert segment["peak_at_s"] in {w["end_s"] for w in inside if w["p_fake"] == segment["peak_p_fake"]}
        # Bounds are those of moments at or above the threshold.
        assert segment["start_s"] in {m["start_s"] for m in moments(report) if m["p_fake"] >= threshold}
        assert segment["end_s"] in {m["end_s"] for m in moments(report) if m["p_fake"] >= threshold}
    # Segments are ordered, disjoint, and separated by more than the 1 s merge gap.
    for earlier, later in itertools.pairwise(segments):
        assert later["start_s"] - earlier["end_s"] > 1.0
    # Nothing is suspicious above every score.
    assert (
        rebuilt_at(one_face_scan, small_checkpoint, min(0.999, scores[-1] + 1e-3))["result"]["suspicious_segments"]
        == []
    )


def test_csv_holds_every_window_and_srt_every_segment(one_face_scan, small_checkpoint):
    scores = sorted(v.p_fake for v in one_face_scan.result.verdicts)
    report = rebuilt_at(one_face_scan, small_checkpoint, scores[len(scores) // 2])
    rows = list(csv.DictReader(io.StringIO(report_csv(report))))
    windows = sorted(
        ((t["track_id"], w) for t in report["tracks"] for w in t["windows"]), key=lambda tw: (tw[1]["end_s"], tw[0])
    )
    assert len(rows) == len(windows) == len(one_face_scan.result.verdicts)
    for row, (track_id, window) in zip(rows, windows, strict=True):
        assert int(row["track_id"]) == track_id and int(row["last_frame"]) == window["last_frame"]
        assert float(row["p_fake"]) == pytest.approx(window["p_fake"], abs=1e-4)
        assert row["suspicious"] == str(int(window["p_fake"] >= report["settings"]["threshold"]))
        assert row["video_verdict"] == report["result"]["verdict"]
    cues = re.findall(r"(\d+)\n(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})\n(.+)\n", report_srt(report))
    segments = report["result"]["suspicious_segments"]
    assert len(cues) == len(segments)
    for (_number, start, _end, text), segment in zip(cues, segments, strict=True):
        seconds = int(start[:2]) * 3600 + int(start[3:5]) * 60 + int(start[6:8]) + int(start[9:]) / 1000
        assert seconds == pytest.approx(segment["start_s"], abs=1e-3) and f"face #{segment['track_id']}" in text
    # The files written by the scan are the same functions of the written JSON.
    written = load(one_face_scan.paths.json)
    assert one_face_scan.paths.csv.read_text() == report_csv(written)
    assert one_face_scan.paths.srt.read_text() == report_srt(written)


def test_a_video_without_faces_gets_a_complete_report_saying_so(small_checkpoint, tmp_path):
    clip = write_video(tmp_path / "empty.mp4", [np.full((240, 320, 3), 90, dtype=np.uint8)] * 20)
    outcome = make_scanner(small_checkpoint).scan(clip, report_paths(clip, tmp_path / "out"))
    assert outcome.status == "scanned"
    report = load(outcome.paths.json)
    report_json.validate(report)
    assert report["result"]["verdict"] == "no face" and report["result"]["video_p_fake"] is None
    assert report["tracks"] == [] and report["explanations"] == [] and report["result"]["suspicious_segments"] == []
    assert outcome.paths.srt.read_text() == "" and "No face was found" in outcome.paths.html.read_text()
    assert outcome.paths.csv.read_text().count("\n") == 1  # the header only


def clip_with_a_timestamp_jump(path, frames, jump_after: int, jump_frames: int):
    """An H.264 file whose timestamps skip ``jump_frames`` frame intervals after frame ``jump_after`` (25 fps):
    as a recorder writes a file when its input stalled."""
    from fractions import Fraction

    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        stream.codec_context.time_base = Fraction(1, 25)
        for number, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = number + (jump_frames if number > jump_after else 0)
            frame.time_base = Fraction(1, 25)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def test_video_the_file_never_recorded_is_reported_as_skipped(small_checkpoint, tmp_path):
    from realtime.sources.demo import render_face_frames

    clip = clip_with_a_timestamp_jump(tmp_path / "jump.mp4", render_face_frames(40), jump_after=19, jump_frames=50)
    outcome = make_scanner(small_checkpoint).scan(clip, report_paths(clip, tmp_path / "out"))
    report = load(outcome.paths.json)
    report_json.validate(report)
    # Frame 19 at 0.76 s, frame 20 at 2.8 s: two seconds no model ever saw.
    assert report["file"]["skipped_spans_s"] == [[0.76, 2.8]] and report["run"]["frames_read"] == 40
    assert "Video missing (timestamps jump), never analysed: 0:00:00.760-0:00:02.800" in outcome.paths.html.read_text()
