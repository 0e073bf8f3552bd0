"""The weekly report's chart, drawn here as a PNG: no service sees the figures.

Three series per week: ambassadors at the end of the week, claims and self-reported
shares. A people count under the minimum group is not drawn: its bar is left out and the
label says "<5", as the tables do.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from bot.i18n import Translator
from bot.services.stats import PEOPLE_FIGURES, Week

WIDTH, HEIGHT = 900, 420
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 60, 20, 60, 70
SERIES = (("ambassadors", (46, 94, 170)), ("claims", (242, 142, 43)), ("shares", (89, 161, 79)))
INK, GRID, PAPER = (40, 40, 40), (225, 225, 225), (255, 255, 255)


def weekly_chart(weeks: Sequence[Week], t: Translator, *, min_group: int) -> bytes:
    """A grouped bar chart of the weeks, oldest first, as PNG bytes."""
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    small, title = ImageFont.load_default(13), ImageFont.load_default(18)
    draw.text((MARGIN_LEFT, 18), t("report.chart_title", weeks=len(weeks)), fill=INK, font=title)

    def hidden(name: str, value: int) -> bool:
        return name in PEOPLE_FIGURES and 0 < value < min_group

    values = [
        [0 if hidden(name, getattr(w, name)) else getattr(w, name) for name, _ in SERIES]
        for w in weeks
    ]
    top = max([1, *(v for week in values for v in week)])
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    base = MARGIN_TOP + plot_h
    for step in range(5):  # horizontal grid with its scale
        y = base - plot_h * step / 4
        draw.line((MARGIN_LEFT, y, WIDTH - MARGIN_RIGHT, y), fill=GRID)
        draw.text((8, y - 7), f"{top * step / 4:g}", fill=INK, font=small)
    slot = plot_w / max(1, len(weeks))
    bar = slot * 0.8 / len(SERIES)
    for index, week in enumerate(weeks):
        x0 = MARGIN_LEFT + index * slot + slot * 0.1
        for number, (name, colour) in enumerate(SERIES):
            value = getattr(week, name)
            left = x0 + number * bar
            if hidden(name, value):
                label = t("stats.few", min=min_group)
                draw.text((left, base - 16), label, fill=INK, font=small)
                continue
            height = plot_h * value / top
            if height:
                draw.rectangle((left, base - height, left + bar - 2, base), fill=colour)
        label = week.week_start.strftime("%d/%m")
        draw.text((x0, base + 6), label, fill=INK, font=small)
    legend_x = MARGIN_LEFT
    for name, colour in SERIES:  # the legend, under the weeks
        y = HEIGHT - 28
        draw.rectangle((legend_x, y, legend_x + 12, y + 12), fill=colour)
        text = t(f"stats.col_{name}")
        draw.text((legend_x + 18, y - 1), text, fill=INK, font=small)
        legend_x += 30 + int(draw.textlength(text, font=small))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
