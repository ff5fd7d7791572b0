"""The self-contained HTML report: verdict, timeline plot, most suspicious faces with heatmaps, segments.

Everything (styles, plot, images) is inline, so the single file can be mailed or archived.
"""

from __future__ import annotations

import base64
from html import escape
from typing import Any

from realtime.verdicts import (
    COVERAGE_CAPTION,
    COVERAGE_HEADERS,
    FAKE,
    MISSED,
    NO_EVALUATION,
    REAL,
    TOO_FEW_CLIPS,
    UNCERTAIN,
    CoverageRow,
    kind_title,
    percent,
    threshold_text,
)
from services.scan.plot import timeline_png

VERDICT_CLASSES = {REAL: "real", UNCERTAIN: "uncertain", FAKE: "fake"}  # badge colours: green, amber, red
HEATMAP_METHODS = {
    "grad-cam": "Grad-CAM on the CNN's last convolution",
    "token-gradient": "the gradient of the window's score times the activation of each 16 px patch of the CLIP "
    "tower's later blocks",
}
HEATMAP_TEXT = (
    "where the model looked when it scored the window (red: the regions that pushed its fake score up most). "
    "It shows what the model attended to, not proof of manipulation, and nothing of what it did not look at."
)


def heatmap_text(report: dict[str, Any]) -> str:
    """What the report's heatmaps are, named by the method that made them."""
    methods = sorted({e.get("method", "grad-cam") for e in report["explanations"]})
    named = " and ".join(HEATMAP_METHODS.get(m, m) for m in methods) or "the model's explainer"
    return f"{named[0].upper()}{named[1:]}: {HEATMAP_TEXT}"


STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; background: #fff; max-width: 1100px; }
h1 { font-size: 1.4em; margin-bottom: 4px; } h2 { font-size: 1.15em; margin-top: 28px; }
.verdict { display: inline-block; padding: 6px 14px; border-radius: 6px; color: #fff; font-weight: 600; }
.fake { background: #c62828; } .real { background: #2e7d32; } .uncertain { background: #b26a00; }
.other { background: #757575; }
.coverage { background: #eef3fb; border-left: 4px solid #4a78c2; padding: 8px 12px; margin: 12px 0; }
.coverage table { margin: 6px 0; background: #fff; font-size: 0.92em; }
.coverage td, .coverage th { padding: 2px 10px; }
.coverage tr.group th { background: #e4eaf4; font-weight: 600; font-size: 0.95em; }
.coverage p { margin: 4px 0 0; } td.missed { color: #c62828; font-weight: 600; } td.few { color: #8a5300; }
.verdict-line { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; margin: 14px 0 6px; }
.caveat { background: #fff3cd; border-left: 4px solid #b26a00; padding: 5px 10px; max-width: 720px; }
td .caveat { display: block; margin-top: 4px; font-size: 0.85em; max-width: 420px; }
.howto li { margin-bottom: 6px; }
.warning { background: #fff3cd; border: 1px solid #e0c060; padding: 8px 12px; margin: 12px 0; }
table { border-collapse: collapse; margin-top: 8px; } td, th { border: 1px solid #ccc; padding: 4px 10px; }
th { background: #f2f2f2; text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.faces { display: flex; flex-wrap: wrap; gap: 16px; } .face { border: 1px solid #ccc; padding: 8px; }
.face img { width: 160px; height: 160px; image-rendering: auto; } .muted { color: #666; font-size: 0.9em; }
"""


def coverage_html(model: dict[str, Any]) -> str:
    """The "What this model was tested on" box: the coverage table and what its figures mean (or that the model
    carries no evaluation), then whether p_fake is calibrated; ``model`` is a report's ``model`` section."""
    rows = [CoverageRow.from_dict(row) for row in model["coverage_table"]]
    if rows:
        header = "".join(f"<th>{escape(title)}</th>" for title in COVERAGE_HEADERS)
        body, kind = "", None
        for row in rows:
            if row.kind != kind:
                kind = row.kind
                body += f"<tr class=group><th colspan={len(COVERAGE_HEADERS)}>{escape(kind_title(kind))}</th></tr>"
            body += _coverage_row(row)
        table = f"<table id=coverage-table><tr>{header}</tr>{body}</table>"
        tested = f"{table}<p class=muted>{escape(COVERAGE_CAPTION)}</p>"
    else:
        tested = f"<p>{escape(NO_EVALUATION)}</p>"
    return (
        f"<div class=coverage id=coverage><b>What this model was tested on</b>{tested}"
        f"<p>{escape(model['calibration'])}</p></div>"
    )


def _coverage_row(row: CoverageRow) -> str:
    family, tested, auc, status = row.cells()
    status_class = {MISSED: " class=missed", TOO_FEW_CLIPS: " class=few"}.get(row.status, "")
    return (
        f"<tr><td>{escape(family)}</td><td class=num>{escape(tested)}</td><td class=num>{escape(auc)}</td>"
        f"<td{status_class}>{escape(status)}</td></tr>"
    )


def verdict_html(verdict: str, headline: str, model: dict[str, Any], element_id: str | None = None) -> str:
    """The verdict badge and, right beside a ``Likely real`` one, the model's :func:`likely_real_caveat`
    (the kinds of fakes it is known to miss)."""
    css_class = VERDICT_CLASSES.get(verdict, "other")
    ids = ("", "") if element_id is None else (f" id={element_id}", f" id={element_id}-caveat")
    badge = f'<span class="verdict {css_class}"{ids[0]} data-verdict="{escape(verdict)}">{escape(headline)}</span>'
    if verdict != REAL:
        return badge
    return f"{badge}<span class=caveat{ids[1]}>{escape(model['likely_real_caveat'])}</span>"


def timestamp(seconds: float) -> str:
    """``H:MM:SS.mmm``."""
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours}:{minutes:02d}:{rest / 1000:06.3f}"


def _segments_table(report: dict[str, Any]) -> str:
    segments = report["result"]["suspicious_segments"]
    if not segments:
        return "<p>No segment reached the threshold.</p>"
    rows = "".join(
        f"<tr><td class=num>{n}</td><td>{timestamp(s['start_s'])}</td><td>{timestamp(s['end_s'])}</td>"
        f"<td class=num>{s['end_s'] - s['start_s']:.2f} s</td><td class=num>#{s['track_id']}</td>"
        f"<td class=num>{s['peak_p_fake']:.3f}</td><td>{timestamp(s['peak_at_s'])}</td></tr>"
        for n, s in enumerate(segments, start=1)
    )
    header = (
        "<tr><th>#</th><th>start</th><th>end</th><th>length</th><th>face</th><th>peak p_fake</th><th>peak at</th></tr>"
    )
    return f"<table id=segments>{header}{rows}</table>"


def _faces(report: dict[str, Any]) -> str:
    explanations = report["explanations"]
    if not explanations:
        return "<p>No window to explain.</p>"
    cards = "".join(
        f"<div class=face><img alt='face crop' src='data:image/png;base64,{e['crop_png']}'>"
        f"<img alt='heatmap' src='data:image/png;base64,{e['heatmap_png']}'>"
        f"<div>face #{e['track_id']}, p_fake <b>{e['p_fake']:.3f}</b></div>"
        f"<div class=muted>window ending {timestamp(e['end_s'])} "
        f"(frames {e['first_frame']}-{e['last_frame']})</div></div>"
        for e in explanations
    )
    return (
        f"<div class=faces>{cards}</div><p class=muted>Left: the face crop the model saw at the end of the window; "
        f"right: {escape(heatmap_text(report))}</p>"
    )


def _how_to_read(report: dict[str, Any]) -> str:
    """The "How to read this" section: what p_fake, the threshold, the verdict and the heatmaps mean."""
    result, model, settings = report["result"], report["model"], report["settings"]
    items = (
        f"<b>p_fake</b> is the model's score for one window of {settings['window']} analysed frames of one face: "
        f"0 looks real, 1 looks fake. {escape(model['calibration'])} The video score is the mean, over half-second "
        "moments, of the highest face score at that moment.",
        f"<b>The threshold</b> ({percent(result['threshold'])}) comes with the model: a window whose p_fake reaches "
        "it is suspicious, and suspicious windows less than a second apart form one suspicious segment.",
        "<b>The verdict</b>: <i>Likely real</i> when no window of any face reached the threshold; "
        "<i>Uncertain</i> when some windows did (the suspicious segments) but the video score did not; "
        "<i>Likely fake</i> when the video score did.",
        f"<b>The heatmaps</b>: {escape(heatmap_text(report))}",
        "<b>What the model can see</b>: the kinds of fakes in <a href='#coverage'>the table at the top</a>, each "
        "with how well the model told them from real clips. A kind it is known to miss, or was never tested on, "
        "can score low: <i>Likely real</i> means the model found nothing it knows, not that the video is authentic; "
        "that is why the kinds it misses are named beside every <i>Likely real</i>.",
    )
    entries = "".join(f"<li>{item}</li>" for item in items)
    return f"<h2>How to read this</h2>\n<ul class=howto id=how-to-read>{entries}</ul>"


def _tracks_table(report: dict[str, Any]) -> str:
    if not report["tracks"]:
        return "<p>No face was found.</p>"
    rows = "".join(
        f"<tr><td class=num>#{t['track_id']}</td><td>{timestamp(t['first_seen_s'])}</td>"
        f"<td>{timestamp(t['last_seen_s'])}</td><td class=num>{len(t['windows'])}</td>"
        f"<td class=num>{t['mean_p_fake']:.3f}</td><td class=num>{t['max_p_fake']:.3f}</td></tr>"
        for t in report["tracks"]
    )
    header = (
        "<tr><th>face</th><th>first seen</th><th>last seen</th><th>windows</th><th>mean p_fake</th><th>max</th></tr>"
    )
    return f"<table id=tracks>{header}{rows}</table>"


def report_html(report: dict[str, Any], companions: dict[str, str]) -> str:
    """The HTML text; ``companions`` maps a label (CSV, SRT, JSON) to a file name next to the report."""
    file, model, result, settings = report["file"], report["model"], report["result"], report["settings"]
    score = "no score" if result["video_p_fake"] is None else f"video score {percent(result['video_p_fake'])}"
    plot = base64.b64encode(timeline_png(report)).decode("ascii")
    notes = []
    if "warning" in report:
        notes.append(f"<div class=warning>{escape(report['warning'])}</div>")
    if file["damaged_packets"]:
        spans = ", ".join(
            f"{timestamp(start)}-{'end' if end is None else timestamp(end)}" for start, end in file["damaged_spans_s"]
        )
        notes.append(f"<div class=warning>{file['damaged_packets']} damaged video packet(s) skipped: {spans}.</div>")
    if file.get("skipped_spans_s"):
        spans = ", ".join(f"{timestamp(start)}-{timestamp(end)}" for start, end in file["skipped_spans_s"])
        notes.append(f"<div class=warning>Video missing (timestamps jump), never analysed: {spans}.</div>")
    if not report["complete"]:
        reason = report.get("error") or "the scan was interrupted"
        notes.append(f"<div class=warning>Incomplete: {escape(reason)}; the figures cover the part analysed.</div>")
    segment_count = len(result["suspicious_segments"])
    training = f": {escape(model['training_data'])}" if model["training_data"] else ""
    links = " · ".join(f"<a href='{escape(name)}'>{escape(label)}</a>" for label, name in companions.items())
    facts = (
        f"{file['width']}x{file['height']}, {file['codec']}"
        + (f", {file['fps']:.2f} fps" if file["fps"] else "")
        + (f", {timestamp(file['duration_s'])}" if file["duration_s"] is not None else "")
        + (f", audio {file['audio_codec']}" if file["audio_codec"] else ", no audio")
    )
    return f"""<!DOCTYPE html>
<html lang=en><head><meta charset=utf-8><title>Deepfake scan: {escape(file["name"])}</title>
<style>{STYLE}</style></head><body>
<h1>{escape(file["name"])}</h1>
<p class=muted>{escape(facts)}<br>sha256 {file["sha256"]}</p>
<div class=verdict-line>{verdict_html(result["verdict"], result["headline"], model, "verdict")}</div>
<p>{score}; {escape(threshold_text(result["threshold"]))}; {result["faces_seen"]} face(s),
 {segment_count} suspicious segment(s)</p>
{coverage_html(model)}
{"".join(notes)}
<h2>Timeline</h2>
<img id=timeline alt='p_fake over time per face' src='data:image/png;base64,{plot}'>
<h2>Suspicious segments</h2>
{_segments_table(report)}
<h2>Most suspicious faces</h2>
{_faces(report)}
<h2>Faces</h2>
{_tracks_table(report)}
{_how_to_read(report)}
<h2>Model and settings</h2>
<p class=muted>{escape(model["source"])} ({escape(model["architecture"])}, {escape(model["backbone"])},
{"trained" if model["trained"] else "untrained"}){training}<br>
every {settings["sample_every"]} frame(s) analysed, window {settings["window"]}, stride {settings["stride"]},
face detection every {settings["detect_every"]} analysed frame(s) ({escape(settings["detector"])})<br>
generated {escape(report["generated_at"])}; {links}</p>
</body></html>
"""
