"""What the model can see, at a glance: the coverage table in the HTML report and the folder index, and the kinds
of fakes the model is known to miss right beside every "Likely real" badge, in the words of realtime.verdicts."""

from __future__ import annotations

import pytest

from realtime.verdicts import COVERAGE_HEADERS, coverage_table, likely_real_caveat
from services.scan import report_json
from services.scan.index import build_index, index_html
from services.scan.report_html import verdict_html
from services.scan.reports import report_paths
from tests.services.scan.scanning import make_scanner
from tests.support.checkpoints import HAND_MADE_EVALUATION
from tests.support.html_tree import Element, parse_html

METRICS = {"evaluation": HAND_MADE_EVALUATION}
CAVEAT = (
    "Known to miss: talking head (video AUC < 0.7 on held-out clips), so a fake of this kind can be rated Likely real."
)
TABLE = [
    list(COVERAGE_HEADERS),
    ["Fakes from the data set"],
    ["face swap", "13", "0.91 (0.80–0.98)", "detected"],
    ["talking head", "21", "0.35 (0.20–0.50)", "missed (AUC < 0.7)"],
]


@pytest.fixture(scope="module")
def real_scan(one_face_clip, trained_small_checkpoint, tmp_path_factory):
    """The one-face clip scanned by the trained test model with a threshold no window reaches: ``real``."""
    scanner = make_scanner(trained_small_checkpoint, explanations=0, threshold=0.999)
    outcome = scanner.scan(one_face_clip, report_paths(one_face_clip, tmp_path_factory.mktemp("reports")))
    assert outcome.status == "scanned" and outcome.report["result"]["verdict"] == "real", outcome.error
    return scanner, outcome


def caveat_beside(page: Element, badge: Element | None) -> str | None:
    """The text of the caveat right after ``badge``, None when no caveat follows it."""
    assert badge is not None and badge.text() == "Likely real"
    beside = badge.next_element()
    return beside.text() if beside is not None and beside.attrs.get("class") == "caveat" else None


def table_rows(table: Element | None) -> list[list[str]]:
    assert table is not None, "no coverage table"
    return [[cell.text() for cell in row.elements()] for row in table.find_all("tr")]


def test_the_sentence_names_the_known_misses_of_the_hand_made_evaluation():
    assert likely_real_caveat(METRICS) == CAVEAT
    assert [list(row.cells()) for row in coverage_table(METRICS)] == TABLE[2:]


def test_the_json_report_carries_the_table_and_the_misses(real_scan):
    _, outcome = real_scan
    report_json.validate(outcome.report)
    model = outcome.report["model"]
    assert model["coverage_table"] == [
        {
            "family": "face swap",
            "kind": "provided",
            "fakes": 13,
            "video_auc": 0.91,
            "video_auc_ci95": [0.8, 0.98],
            "status": "detected",
        },
        {
            "family": "talking head",
            "kind": "provided",
            "fakes": 21,
            "video_auc": 0.35,
            "video_auc_ci95": [0.2, 0.5],
            "status": "missed (AUC < 0.7)",
        },
    ]
    assert model["known_misses"] == ["talking head"] and model["likely_real_caveat"] == CAVEAT


def test_the_html_report_shows_the_table_and_the_misses_beside_likely_real(real_scan):
    _, outcome = real_scan
    page = parse_html(outcome.paths.html.read_text())
    badge = page.find(id="verdict")
    assert caveat_beside(page, badge) == CAVEAT
    assert badge.parent.attrs.get("class") == "verdict-line"  # on the verdict's own line, nothing between
    coverage = page.find("div", id="coverage")
    assert table_rows(coverage.find("table", id="coverage-table")) == TABLE
    assert "1 = perfect, 0.5 = chance" in coverage.text() and "not calibrated" in coverage.text()


def test_the_check_fails_on_a_report_without_the_sentence(real_scan):
    _, outcome = real_scan
    html = outcome.paths.html.read_text()
    start = html.index("<span class=caveat")
    stripped = html[:start] + html[html.index("</span>", start) + len("</span>") :]
    page = parse_html(stripped)
    assert caveat_beside(page, page.find(id="verdict")) is None


def test_only_likely_real_gets_the_sentence():
    model = {"likely_real_caveat": CAVEAT}
    for verdict, headline in [("uncertain", "Uncertain: 1 suspicious moment (max 91%)"), ("fake", "Likely fake (87%)")]:
        html = verdict_html(verdict, headline, model, "verdict")
        assert CAVEAT not in html and f">{headline}</span>" in html


def test_the_folder_index_shows_the_table_and_the_misses_beside_each_likely_real(real_scan, one_face_clip):
    scanner, outcome = real_scan
    index = build_index(one_face_clip.parent, one_face_clip.parent, [outcome], [], scanner.model.to_dict(), {})
    page = parse_html(index_html(index))
    assert table_rows(page.find("table", id="coverage-table")) == TABLE
    files = page.find("table", id="files")
    badge = files.find("span", class_="verdict real")
    assert caveat_beside(files, badge) == CAVEAT
