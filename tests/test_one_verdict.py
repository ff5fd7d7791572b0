"""One verdict rule everywhere: a clip with suspicious moments but a video score under the threshold is
"uncertain" in the headless summary, every scan report, the folder index, the exported video and the window."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from app.cli import main
from realtime.colors import AMBER
from realtime.verdicts import coverage_line, coverage_table, likely_real_caveat, rounded
from services.scan import report_json
from services.scan.reports import report_paths
from services.scan.segments import summarize
from tests.services.scan.scanning import make_scanner
from tests.support.checkpoints import HAND_MADE_EVALUATION
from tests.support.data import REPO_ROOT

WAIT_MS = 60_000
METRICS = {"evaluation": HAND_MADE_EVALUATION}
COVERAGE = coverage_line(METRICS)


@pytest.fixture(scope="module")
def uncertain_threshold(one_face_clip, trained_small_checkpoint, tmp_path_factory) -> float:
    """A threshold half-way between the clip's video score and its highest window: some windows reach it,
    the video score does not (the scores of this model on this clip are learnt by scanning it once)."""
    outcome = make_scanner(trained_small_checkpoint, explanations=0).scan(
        one_face_clip, report_paths(one_face_clip, tmp_path_factory.mktemp("probe"))
    )
    video = summarize(outcome.result.verdicts).video_p_fake()
    peak = max(v.p_fake for v in outcome.result.verdicts)
    assert peak - video > 0.002, "the model scores this clip too evenly for the test"
    return round((video + peak) / 2, 5)


def test_every_output_says_uncertain_with_the_same_words(
    one_face_clip, trained_small_checkpoint, uncertain_threshold, tmp_path, capsys, qtbot
):
    common = ["--model", str(trained_small_checkpoint), "--threshold", str(uncertain_threshold), "--threads", "1"]

    # Headless: the summary line.
    headless = subprocess.run(
        [sys.executable, str(REPO_ROOT / "run_live.py"), "--headless", "--source", str(one_face_clip), *common],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO_ROOT,
    )
    assert headless.returncode == 0, headless.stderr
    summary = json.loads(headless.stdout.splitlines()[-1])
    assert summary["type"] == "summary" and summary["suspicious_segments"]
    assert summary["verdict"] == "uncertain" and summary["headline"].startswith("Uncertain: ")
    assert summary["threshold"] == rounded(uncertain_threshold) and summary["video_p_fake"] < summary["max_p_fake"]
    assert summary["model"]["evaluated"] == [
        {"family": "face swap", "kind": "provided", "video_auc": 0.91, "clips": 13},
        {"family": "talking head", "kind": "provided", "video_auc": 0.35, "clips": 21},
    ]
    assert summary["model"]["coverage"] == COVERAGE and summary["model"]["calibrated"] is False
    assert summary["model"]["known_misses"] == ["talking head"]
    assert summary["model"]["likely_real_caveat"] == likely_real_caveat(METRICS)
    assert summary["model"]["coverage_table"] == [row.to_dict() for row in coverage_table(METRICS)]

    # A folder scan: the four reports and the index.
    folder = tmp_path / "videos"
    folder.mkdir()
    clip = folder / "clip.mp4"
    shutil.copy(one_face_clip, clip)
    out = tmp_path / "reports"
    assert main(["--scan", "--source", str(folder), "--out", str(out), "--device", "cpu", *common]) == 0
    printed = json.loads(capsys.readouterr().out.splitlines()[-1])
    report = json.loads((out / "clip.deepfake.json").read_text())
    report_json.validate(report)
    headline = report["result"]["headline"]
    assert report["result"]["verdict"] == "uncertain" and headline == summary["headline"]
    assert (printed["verdict"], printed["headline"]) == ("uncertain", headline)
    assert report["model"]["coverage"] == COVERAGE and report["model"]["evaluated"] == summary["model"]["evaluated"]
    assert report["model"]["coverage_table"] == summary["model"]["coverage_table"]
    rows = list(csv.DictReader(io.StringIO((out / "clip.deepfake.csv").read_text())))
    assert rows and {row["video_verdict"] for row in rows} == {"uncertain"}
    assert any(row["suspicious"] == "1" for row in rows) and any(row["suspicious"] == "0" for row in rows)
    html = (out / "clip.deepfake.html").read_text()
    assert f'class="verdict uncertain" id=verdict data-verdict="uncertain">{headline}<' in html
    assert "<table id=coverage-table>" in html and "<td class=missed>missed (AUC &lt; 0.7)</td>" in html
    assert "<h2>How to read this</h2>" in html and "class=caveat" not in html  # the caveat stands beside real only
    assert "Grad-CAM on the CNN&#x27;s last convolution: where the model looked" in html and "not proof" in html
    srt = (out / "clip.deepfake.srt").read_text()
    assert srt.count(f"video: {headline}") == len(report["result"]["suspicious_segments"]) >= 1
    index = json.loads((out / "scan-index.json").read_text())
    assert [(f["file"], f["verdict"], f["headline"]) for f in index["files"]] == [("clip.mp4", "uncertain", headline)]
    index_html = (out / "scan-index.html").read_text()
    assert f'data-verdict="uncertain">{headline}<' in index_html and "<table id=coverage-table>" in index_html

    # --export-video without --scan implies the scan; the verdict is drawn on every frame in amber.
    exported = tmp_path / "annotated.mp4"
    assert main(["--source", str(clip), "--export-video", str(exported), "--device", "cpu", *common]) == 0
    assert "note: --export-video implies --scan" in capsys.readouterr().err
    with av.open(str(exported)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    strip = frame[-20:-8, 10:200].reshape(-1, 3).astype(int)  # the verdict strip, bottom left
    assert (np.abs(strip - np.array(AMBER)).max(axis=1) < 40).mean() > 0.5

    # The window: the final verdict in the same words, kept after the file ended, and the summary line.
    from realtime.config import EngineConfig
    from realtime.engine import build_engine
    from ui.window import MainWindow

    engine = build_engine(
        EngineConfig(device="cpu", torch_threads=1, threshold=uncertain_threshold), trained_small_checkpoint
    )
    window = MainWindow(engine)
    qtbot.addWidget(window)
    summaries: list[dict] = []
    window.summary_ready.connect(summaries.append)
    window.open_source(str(clip))
    window.show()
    try:
        qtbot.waitUntil(lambda: window.final_summary is not None, timeout=WAIT_MS)
        assert summaries == [window.final_summary] and window.final_summary["verdict"] == "uncertain"
        assert window.verdict_label.text() == window.final_summary["headline"] == headline
        qtbot.wait(800)  # playback goes on to the end; the final verdict stays
        assert window.verdict_label.text() == headline
        assert window.model_box.table.rows_text()[1:] == [row.cells() for row in coverage_table(METRICS)]
        assert "not calibrated" in window.model_box.notes.text() and window.verdict_caveat.isHidden()
        shot = os.environ.get("VERDICT_WINDOW_PNG")  # to look at the window: VERDICT_WINDOW_PNG=/tmp/w.png
        if shot:
            window.grab().save(shot)
    finally:
        window.close()
    assert summaries == [window.final_summary]  # closing after the end prints nothing more


def test_a_model_without_evaluation_says_so(small_checkpoint, one_face_clip, tmp_path):
    report_dir = tmp_path / "r"
    outcome = make_scanner(small_checkpoint, explanations=0).scan(
        one_face_clip, report_paths(one_face_clip, report_dir)
    )
    model = outcome.report["model"]
    assert model["evaluated"] == [] and model["coverage"].startswith("This model carries no evaluation")
    assert model["calibrated"] is None and "This model carries no evaluation" in Path(outcome.paths.html).read_text()
