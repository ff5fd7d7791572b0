"""HTTP and HLS sources, served from 127.0.0.1."""

import shutil

from tests.support.http_server import StaticHttpServer, remux_to_hls
from tests.test_run_live import records, run_live


def test_hls_playlist_and_plain_http_file_are_analysed(tmp_path, one_face_clip, small_checkpoint):
    remux_to_hls(one_face_clip, tmp_path / "hls")
    shutil.copy(one_face_clip, tmp_path / "clip.mp4")
    assert len(list((tmp_path / "hls").glob("*.ts"))) >= 2
    with StaticHttpServer(tmp_path) as server:
        hls = run_live("--source", f"{server.base_url}/hls/index.m3u8", "--model", str(small_checkpoint))
        plain = run_live("--source", f"{server.base_url}/clip.mp4", "--model", str(small_checkpoint))
        missing = run_live("--source", f"{server.base_url}/nothing.m3u8", "--model", str(small_checkpoint))
    for result in (hls, plain):
        assert result.returncode == 0, result.stderr
        summary = records(result.stdout)[-1]
        assert summary["frames_read"] >= 70 and summary["faces_seen"] == 1 and summary["windows_scored"] > 0
    assert missing.returncode == 1 and "404" in missing.stderr and "Traceback" not in missing.stderr
