"""The soak bench's schedule and arithmetic, without processes or pixels (tested alone):
which stamp the replayed camera shows when, which showings a camera frame number has
played, which scans belong to which showing, watchdog gaps, least-squares trends."""

from __future__ import annotations

import bisect
import enum
import itertools
import math
from dataclasses import dataclass, field

CAMERA_FPS = 30
SETTLE_S = 2.0  # a showing's scans are in this long after it ended
SCAN_LEAD_S = 5.0  # a scan may seem this much early (frame clock between marks)
WARMUP_S = 600.0  # trends start after this (runs < 20 min: after a third)


@dataclass(frozen=True)
class Showing:
    start_s: float  # in the replay loop
    hold_s: float
    label: int  # which printed label is held up
    name: str


IDLE_TIMEOUT_S = 8.0  # ui.idle_timeout_s of the soaked kiosk
DECODER_REPEAT_S = 4.0  # a decoder that re-reports a code still in view does so this often
# Every 20 s a stamp: a glance, shorter than the idle timeout, then one left in view longer
# than the idle return plus a decoder repeat, the case where a stamp still in view could be
# counted again once the kiosk is back on attract.
LOOP_S = 40.0
SHOWINGS = (Showing(6.0, 4.0, 0, "glance"), Showing(26.0, 14.0, 1, "left in view"))
LOOP_FRAMES = int(LOOP_S * CAMERA_FPS)


def showing_at(frame_in_loop: int) -> Showing | None:
    t = frame_in_loop / CAMERA_FPS
    return next((s for s in SHOWINGS if s.start_s <= t < s.start_s + s.hold_s), None)


# --- scheduled showings, from the camera's frame numbers -----------------------------------


@dataclass(frozen=True)
class Shown:
    index: int
    showing: Showing
    start_frame: int
    end_frame: int


def showings_played(last_frame: int) -> list[Shown]:
    """The showings the replay has started by camera frame `last_frame` (0 = first frame
    read), in order."""
    out = []
    loop = 0
    while loop * LOOP_FRAMES <= last_frame:
        for showing in SHOWINGS:
            start = loop * LOOP_FRAMES + round(showing.start_s * CAMERA_FPS)
            if start <= last_frame:
                out.append(
                    Shown(len(out), showing, start, start + round(showing.hold_s * CAMERA_FPS))
                )
        loop += 1
    return out


def frame_clock(marks: list[tuple[int, float]]):
    """Camera frame number -> wall time, from (frame, time.time()) marks of the probe;
    beyond the marks at the camera's rate."""
    marks = sorted(m for m in marks if m[0] >= 0)
    if not marks:
        raise ValueError("no camera frames seen")
    frames = [f for f, _ in marks]

    def at(frame: float) -> float:
        i = bisect.bisect_left(frames, frame)
        if i == 0:
            return marks[0][1] - (marks[0][0] - frame) / CAMERA_FPS
        if i == len(marks):
            return marks[-1][1] + (frame - marks[-1][0]) / CAMERA_FPS
        (f0, t0), (f1, t1) = marks[i - 1], marks[i]
        return t0 + (t1 - t0) * (frame - f0) / (f1 - f0) if f1 != f0 else t0

    return at


@dataclass
class ScanTally:
    shown: int = 0
    once: int = 0
    missed: int = 0
    extra: int = 0  # scans beyond the first of a showing, or outside any
    wrong_text: int = 0
    by_name: dict = field(default_factory=dict)  # showing name -> [shown, missed, extra]


def tally_scans(
    shown: list[Shown], last_frame: int, clock, scans: list[tuple[float, str]], texts: list[str]
) -> ScanTally:
    """Each COMPLETE showing (ended SETTLE_S before `last_frame`) should have exactly one scan
    of its label's text. A scan belongs to the last showing OF ITS LABEL that started before
    it (with SCAN_LEAD_S of slack for the frame clock: the same label comes back only every
    LOOP_S); scans of the showing still running are not judged, a text of no label is wrong."""
    settle = round(SETTLE_S * CAMERA_FPS)
    complete = {s.index for s in shown if s.end_frame + settle <= last_frame}
    tally = ScanTally(shown=len(complete))
    per_label: dict[int, tuple[list[float], list[Shown]]] = {}
    for s in shown:
        starts, of_label = per_label.setdefault(s.showing.label, ([], []))
        starts.append(clock(s.start_frame))
        of_label.append(s)
    counts = dict.fromkeys(complete, 0)
    seen_until = clock(last_frame)
    for when, text in scans:
        if when > seen_until:
            continue  # after the last frame known: its showing is unknown
        if text not in texts:
            tally.wrong_text += 1
            continue
        starts, of_label = per_label.get(texts.index(text), ([], []))
        k = bisect.bisect_right(starts, when + SCAN_LEAD_S) - 1
        if k < 0:
            tally.extra += 1  # before its label was first held up
        elif of_label[k].index in complete:
            counts[of_label[k].index] += 1
    for s in shown:
        if s.index not in complete:
            continue
        n = counts[s.index]
        row = tally.by_name.setdefault(s.showing.name, [0, 0, 0])
        row[0] += 1
        if n == 0:
            tally.missed += 1
            row[1] += 1
        else:
            tally.once += n == 1
            tally.extra += n - 1
            row[2] += n - 1
    return tally


# --- watchdog and trends --------------------------------------------------------------------


@dataclass(frozen=True)
class PingReport:
    pings: int
    max_gap_s: float
    missed: int  # gaps longer than WATCHDOG_USEC: systemd would have killed the app


def ping_report(times: list[float], end: float, timeout_s: float) -> PingReport:
    """WATCHDOG=1 times (monotonic) up to `end`; the gap after the last ping counts too."""
    if not times:
        return PingReport(0, math.inf, 1)
    marks = [*sorted(times), end]
    gaps = [b - a for a, b in itertools.pairwise(marks)]
    return PingReport(len(times), max(gaps, default=0.0), sum(g > timeout_s for g in gaps))


def trend_per_hour(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares slope of (seconds, value) in value per hour, and twice its standard
    error (a rough band: samples 10 s apart are not independent). (nan, nan) if < 3."""
    if len(points) < 3:
        return math.nan, math.nan
    n = len(points)
    xs = [x / 3600 for x, _ in points]
    ys = [y for _, y in points]
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return math.nan, math.nan
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    resid = sum((y - my - slope * (x - mx)) ** 2 for x, y in zip(xs, ys, strict=True))
    return slope, 2 * math.sqrt(resid / (n - 2) / sxx)


class Trend(enum.Enum):
    FLAT = "ok"  # clearly below the target
    RISING = "MISSED"  # clearly above it
    UNCLEAR = "unclear"  # the band straddles the target: run longer


def judge_trend(slope: float, band: float, target: float) -> Trend:
    if math.isnan(slope):
        return Trend.UNCLEAR
    if slope - band >= target:
        return Trend.RISING
    return Trend.FLAT if slope + band < target else Trend.UNCLEAR


def warmup_s(duration_s: float) -> float:
    return WARMUP_S if duration_s >= 2 * WARMUP_S else duration_s / 3
