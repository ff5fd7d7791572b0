from common.urls import mask_text, mask_url


def test_credentials_and_secret_query_values_are_masked():
    masked = mask_url("rtsp://admin:hunter2@10.0.0.5:554/live?token=abc&channel=1")
    assert "hunter2" not in masked and "admin" not in masked and "abc" not in masked
    assert masked.startswith("rtsp://***@10.0.0.5:554/live?") and "channel=1" in masked


def test_plain_paths_and_urls_without_secrets_are_unchanged():
    assert mask_url("/videos/a b.mp4") == "/videos/a b.mp4"
    assert mask_url("http://example.org/live.m3u8") == "http://example.org/live.m3u8"


def test_urls_inside_messages_are_masked():
    text = "cannot open rtsp://u:p4ss@host/x: 401 Unauthorized"
    assert mask_text(text) == "cannot open rtsp://***@host/x: 401 Unauthorized"


def test_a_user_without_a_password_is_masked_too():
    # rtsp://admin@cam: a user name alone still says who logs in to the camera.
    assert mask_url("rtsp://admin@10.0.0.5:554/live") == "rtsp://***@10.0.0.5:554/live"
    assert mask_url("http://admin:@cam/x") == "http://***@cam/x"  # an empty password
    assert mask_text("cannot open rtsp://admin@10.0.0.5/live: 401 Unauthorized") == (
        "cannot open rtsp://***@10.0.0.5/live: 401 Unauthorized"
    )
    assert mask_text("gave up on rtsp://admin@cam/a after 2 attempts: rtsp://op:pw@cam/b") == (
        "gave up on rtsp://***@cam/a after 2 attempts: rtsp://***@cam/b"
    )
