"""The weekly chart: an SVG that headless Chromium renders to a PNG whose pixels show
both lines (thanked within 24 h, answered) on a white page."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import timedelta

import pytest

from api.reports import chart as charts
from api.reports.adherence import Week
from api.reports.chart import REPLY_COLOUR, THANKED_COLOUR
from tests.reports.conftest import END, INTERVIEW_ENDS, START

#: Three weeks, an interview in each: each rate is a line across.
RANGE = {"start": (START - timedelta(days=14)).isoformat(), "end": END.isoformat()}

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def chromium():
    if CHROMIUM is None:
        if os.environ.get("TOUCHBASE_REQUIRE_CHROMIUM") == "1":
            pytest.fail("chromium is required (TOUCHBASE_REQUIRE_CHROMIUM=1) but not installed")
        pytest.skip("chromium is not installed")
    return CHROMIUM


def render(chromium: str, svg: bytes, tmp_path, name: str = "chart"):
    """The PNG's pixels (kept beside the SVG in the test's tmp dir), as RGB triples."""
    from PIL import Image

    source = tmp_path / f"{name}.svg"
    source.write_bytes(svg)
    png = tmp_path / f"{name}.png"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / f'profile-{name}'}",
            "--window-size=800,400",
            f"--screenshot={png}",
            source.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    with Image.open(png) as image:
        data = image.convert("RGB").tobytes()
    return [tuple(data[i : i + 3]) for i in range(0, len(data), 3)]


def rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def near(pixel, colour, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def coloured(pixels, colour: str) -> int:
    return sum(near(p, rgb(colour)) for p in pixels)


@pytest.fixture
def empty(chromium, tmp_path):
    """The pixels of the same chart with no interviews: axes and the legend only."""
    weeks = [Week(START.date() - timedelta(days=7 * i), 0, 0, 0) for i in (2, 1, 0)]
    return render(chromium, charts.svg(weeks, "Adherence"), tmp_path, "empty")


@pytest.fixture
def chart(call, world, cohort, factory):
    """The admin's chart of three weeks, each with a panel of two, both thanked within
    24 h (100 %), one answered (50 %): two lines across, apart."""
    for weeks_back in (2, 1, 0):
        ends = INTERVIEW_ENDS - timedelta(days=7 * weeks_back)
        app, (dana, lee) = cohort.interviewed(world.candidate, panel=2, ends_at=ends)
        cohort.sent(dana, app, at=ends + timedelta(hours=3))
        cohort.sent(lee, app, at=ends + timedelta(hours=3))
        factory.response(lee, app, "replied", occurred_at=ends + timedelta(hours=9))
    answer = call("GET", "/v1/reports/adherence.svg", world.tokens["admin"], query_string=RANGE)
    assert answer.status_code == 200
    return answer


def test_the_chart_is_served_as_svg(chart):
    assert chart.mimetype == "image/svg+xml"


def test_the_rendered_chart_shows_the_thank_you_line(chart, empty, chromium, tmp_path):
    pixels = render(chromium, chart.get_data(), tmp_path)
    assert coloured(pixels, THANKED_COLOUR) > coloured(empty, THANKED_COLOUR) + 500


def test_the_rendered_chart_shows_the_reply_line(chart, empty, chromium, tmp_path):
    pixels = render(chromium, chart.get_data(), tmp_path)
    assert coloured(pixels, REPLY_COLOUR) > coloured(empty, REPLY_COLOUR) + 500


def test_the_rendered_chart_is_not_blank(chart, chromium, tmp_path):
    pixels = render(chromium, chart.get_data(), tmp_path)
    dark = sum(1 for p in pixels if max(p) < 100)  # axes, ticks and text
    assert dark > 500


def test_the_chart_range_is_validated_like_the_report(call, world):
    params = {"start": RANGE["end"], "end": RANGE["start"]}
    answer = call("GET", "/v1/reports/adherence.svg", world.tokens["admin"], query_string=params)
    assert (answer.status_code, sorted(answer.get_json()["errors"])) == (422, ["end"])
