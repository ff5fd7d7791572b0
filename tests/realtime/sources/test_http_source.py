"""HTTP and HLS sources, served from 127.0.0.1."""

import shutil

from tests.support.http_server import StaticHttpServer, remux_to_hls, remux_to_ts
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
        assert "timestamp_gaps" not in summary  # every frame arrived: no skipped video to report
    assert missing.returncode == 1 and "404" in missing.stderr and "Traceback" not in missing.stderr


def test_an_http_stream_cut_off_mid_transfer_reconnects_and_goes_on(tmp_path, one_face_clip, small_checkpoint):
    remux_to_ts(one_face_clip, tmp_path / "live.ts")
    with StaticHttpServer(tmp_path) as server:
        # The stream arrives in real time, as a broadcast does (the clip is 3 s): sent as fast as loopback allows,
        # a live source's reader keeps only the newest frames, and whether any face window formed after the
        # reconnect depended on how the two cores were shared (it failed once in a clean-clone run).
        server.pace("/live.ts", 3.0)
        server.fail("/live.ts", "cut")  # the first connection breaks a third of the way through
        url = server.base_url.replace("http://", "http://viewer:s3cret-pw@") + "/live.ts"
        result = run_live("--source", url, "--model", str(small_checkpoint), "--reconnect-attempts", "2")
    assert result.returncode == 0, result.stderr
    assert server.requests == ["/live.ts", "/live.ts"]  # broken, then asked again
    lines = records(result.stdout)
    masked = f"http://***@{server.base_url.removeprefix('http://')}/live.ts"
    statuses = [r for r in lines if r["type"] == "status"]
    assert [r["event"] for r in statuses] == ["reconnecting", "reconnected"]
    assert statuses[0]["reason"].startswith(f"error reading {masked} after ")
    summary = lines[-1]
    assert summary["source"] == masked and summary["reconnects"] == 1 and len(summary["outages"]) == 1
    # What came before the break, then the whole clip again from the new connection (a file has no "live" point).
    assert 75 < summary["frames_read"] < 150 and summary["windows_scored"] > 0 and "error" not in summary
    verdicts = [r for r in lines if r["type"] == "verdict"]
    assert any(v["start_pts_s"] >= summary["outages"][0]["end_s"] for v in verdicts)
    assert "s3cret-pw" not in result.stdout + result.stderr and "viewer" not in result.stdout + result.stderr


def test_an_hls_segment_the_server_fails_to_serve_is_fetched_again_and_nothing_is_lost(
    tmp_path, one_face_clip, small_checkpoint
):
    remux_to_hls(one_face_clip, tmp_path / "hls")
    with StaticHttpServer(tmp_path) as server:
        server.fail("/hls/index1.ts", "reset", "reset")  # the second segment: two connections closed unanswered
        result = run_live("--source", f"{server.base_url}/hls/index.m3u8", "--model", str(small_checkpoint))
    assert result.returncode == 0, result.stderr
    assert server.requests.count("/hls/index1.ts") == 3 and server.requests[-1] == "/hls/index2.ts"
    summary = records(result.stdout)[-1]
    assert summary["frames_read"] == 75 and "reconnects" not in summary and "error" not in summary
    assert "decode_errors" not in summary  # every frame of the failed segment arrived


def test_an_hls_segment_cut_mid_body_is_reported_as_video_the_stream_skipped(tmp_path, one_face_clip, small_checkpoint):
    remux_to_hls(one_face_clip, tmp_path / "hls")
    with StaticHttpServer(tmp_path) as server:
        server.fail("/hls/index1.ts", "cut")  # the second segment: a third of its body, then the connection closes
        result = run_live("--source", f"{server.base_url}/hls/index.m3u8", "--model", str(small_checkpoint))
    assert result.returncode == 0, result.stderr
    summary = records(result.stdout)[-1]
    # The stream goes on with the next segment; the summary says which stretch of video never arrived.
    assert summary["frames_read"] < 75 and "error" not in summary
    ((start_s, end_s),) = summary["timestamp_gaps"]
    assert 0.5 <= start_s < end_s <= 2.5 and end_s - start_s >= (75 - summary["frames_read"]) / 25 - 0.05
