from faces.geometry import Box, iou
from faces.tracker import FaceTracker


def box(x: float, y: float, size: float = 100.0) -> tuple[Box, tuple]:
    return (Box(x, y, x + size, y + size), ())


def test_iou_of_identical_disjoint_and_half_overlapping_boxes():
    a = Box(0, 0, 10, 10)
    assert iou(a, a) == 1.0
    assert iou(a, Box(20, 20, 30, 30)) == 0.0
    assert abs(iou(a, Box(5, 0, 15, 10)) - 1 / 3) < 1e-9


def test_ids_stay_stable_while_faces_move_and_swap_list_order():
    tracker = FaceTracker()
    first = tracker.update([box(0, 0), box(300, 0)])
    assert first.started == [1, 2]
    tracker.update([box(310, 5), box(10, 5)])  # detector lists them the other way round
    positions = {t.track_id: t.box.left for t in tracker.tracks}
    assert positions == {1: 10, 2: 310}


def test_track_survives_a_missed_round_then_ends():
    tracker = FaceTracker(max_missed=1)
    tracker.update([box(0, 0)])
    assert tracker.update([]).ended == []
    assert not tracker.tracks[0].confirmed
    assert tracker.update([]).ended == [1]
    assert tracker.tracks == []


def test_a_face_that_jumped_keeps_its_id_when_nothing_overlaps():
    tracker = FaceTracker()
    tracker.update([box(0, 0), box(600, 0)])
    update = tracker.update([box(80, 20), box(600, 0)])  # frames dropped: the face moved 0.8 of its size
    assert update.started == [] and {t.track_id: t.box.left for t in tracker.tracks} == {1: 80, 2: 600}
    assert tracker.update([box(80, 20, size=300)]).started == [3]  # much larger: another face


def test_a_face_far_from_every_track_starts_a_new_id():
    tracker = FaceTracker()
    tracker.update([box(0, 0)])
    update = tracker.update([box(0, 0), box(500, 500)])
    assert update.started == [2]


def test_number_of_faces_is_capped_and_counted():
    tracker = FaceTracker(max_faces=2)
    tracker.update([box(0, 0), box(200, 0), box(400, 0)])
    assert len(tracker.tracks) == 2
    assert tracker.faces_capped == 1


def test_move_shifts_box_and_landmarks_together():
    tracker = FaceTracker()
    tracker.update([(Box(0, 0, 10, 10), ((2.0, 3.0),))])
    tracker.move(1, Box(5, 5, 15, 15))
    assert tracker.tracks[0].landmarks == ((7.0, 8.0),)
