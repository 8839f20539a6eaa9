"""The panorama's charts, drawn with matplotlib's documented object API: a ``Figure`` per
chart on its own Agg canvas (no pyplot state, so it is safe in threads and worker
processes), ordinary ``Axes`` calls, and the layout left to matplotlib (constrained layout
for the portfolio charts, fixed axes for the scorecards).

Every chart is a :class:`Chart`: a figure plus what a reader who cannot see it needs
(a French text alternative and the table of its data). One colour-blind-safe palette
(Okabe–Ito) everywhere; the computed health is also written, never told by colour alone.

Honest axes: dates on a date axis (editions months or years apart are drawn months or
years apart), counts and amounts from zero, tick labels never repeated (as many decimals,
or as fine a date, as they need to differ), legends outside the data, no label cut.
"""

from __future__ import annotations

import io
import json
import logging
import struct
import textwrap
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PatchCollection
from matplotlib.dates import AutoDateLocator, date2num, num2date
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import Formatter, MaxNLocator
from zlib_ng import zlib_ng

from pilot.indicators.figures import COST_BRACKETS
from pilot.money import MILLION, format_decimal_fr, format_meur
from pilot.projects.confidentiality import WITHHELD_TEXT
from scorecards.view import EditionSummary, EditionView, ProjectView

# Okabe & Ito (2008), safe for the common colour-vision deficiencies.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
GREY = "#8C8C8C"
TEXT = "#161616"  # DSFR's text grey: contrast 17:1 on white
HEALTH_COLOURS = {"vert": OKABE_ITO["green"], "orange": OKABE_ITO["orange"]}
HEALTH_COLOURS["rouge"] = OKABE_ITO["vermillion"]
HEALTH_MARKERS = {"vert": "o", "orange": "s", "rouge": "D", None: "X"}
HEALTH_LABELS = {"vert": "vert", "orange": "orange", "rouge": "rouge", None: "non calculée"}
PHASE_ORDER = [
    "Cadrage",
    "Conception / Réalisation",
    "Expérimentation",
    "Déploiement",
    "Terminé",
    "Abandonné",
    "Non renseignée",
]
PHASE_COLOURS = [
    OKABE_ITO["sky"],
    OKABE_ITO["blue"],
    OKABE_ITO["purple"],
    OKABE_ITO["green"],
    OKABE_ITO["black"],
    OKABE_ITO["vermillion"],
    GREY,
]
PHASE_HATCHES = ["", "//", "..", "xx", "", "\\\\", "--"]
WEATHER_LABELS = {"soleil": "soleil", "nuageux": "nuageux", "orage": "orage", None: "non déclarée"}
DPI = 100
# Portfolio charts: narrow enough to be read on a phone without zooming (the page scales
# the image to the screen's width), with a large enough font.
PORTFOLIO_WIDTH = 6.4
RC: Any = {
    # DejaVu Sans (shipped with matplotlib) in PNG and SVG; Helvetica in PDF pages that use
    # the standard PDF fonts (see ``PDF_CORE_FONTS_RC``).
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Helvetica"],
    "font.size": 10,
    "text.color": TEXT,
    "text.parse_math": False,  # a "$" in a project's name is a dollar sign
    "axes.labelcolor": TEXT,
    "axes.edgecolor": "#3A3A3A",
    "xtick.color": TEXT,
    "ytick.color": TEXT,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",  # text stays text in SVG: smaller, searchable, faster
    "svg.hashsalt": "pilot",  # deterministic SVG ids
    "pdf.fonttype": 3,  # subsetted Type 3: twice as fast to write as TrueType (42)
}
# The standard PDF fonts (Helvetica), not embedded: every reader has them, their text is
# plainly extractable, and a page is about 8 times smaller, with 6 times fewer objects, so
# quicker to write and to put in the booklet than with embedded fonts. They only know the
# characters of Windows-1252, which is enough for French; other text keeps DejaVu Sans.
PDF_CORE_FONTS_RC: Any = {**RC, "pdf.use14corefonts": True}
CORE_FONTS_ENCODING = "cp1252"


class _CoreFontWeight(logging.Filter):
    """Helvetica's AFM weight is "Medium", not "normal": matplotlib's warning about it is
    expected, not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.getMessage().startswith("findfont: Failed to find font weight")
            and "Helvetica" in record.getMessage()
        )


logging.getLogger("matplotlib.font_manager").addFilter(_CoreFontWeight())


def fits_core_fonts(*values: Any) -> bool:
    """Whether the standard PDF fonts can write every text in ``values`` (the data a chart
    shows): they only know Windows-1252, which is enough for French."""
    try:
        json.dumps(values, ensure_ascii=False, default=str).encode(CORE_FONTS_ENCODING)
    except UnicodeEncodeError:
        return False
    return True


@dataclass
class Chart:
    """A drawn chart and what replaces it for a reader who cannot see it."""

    slug: str
    title: str
    alt: str  # short text alternative (the ``alt`` of the image)
    headers: list[str]
    rows: list[list[str]]
    figure: Figure | None = field(default=None, repr=False)
    core_fonts: bool = False  # its PDF can use the standard fonts (see ``fits_core_fonts``)

    def save(self, folder: Path, formats: Sequence[str] = ("png", "svg")) -> list[Path]:
        assert self.figure is not None, "scorecard_text() charts have no figure"
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for fmt in formats:
            path = folder / f"{self.slug}.{fmt}"
            write_figure(self.figure, path, fmt, core_fonts=self.core_fonts)
            written.append(path)
        return written

    def table(self) -> dict[str, Any]:
        return {"title": self.title, "alt": self.alt, "headers": self.headers, "rows": self.rows}


def write_figure(figure: Figure, path: Path, fmt: str, *, core_fonts: bool = False) -> None:
    """Write atomically (see ``write_file``) the figure in ``fmt`` (see ``figure_data``)."""
    write_file(path, figure_data(figure, fmt, core_fonts=core_fonts))


def figure_data(figure: Figure, fmt: str, *, core_fonts: bool = False) -> bytes:
    """The figure as a PNG, SVG or PDF file. ``core_fonts``: a PDF uses the standard fonts
    (only when ``fits_core_fonts`` says they can write its text)."""
    with matplotlib.rc_context(PDF_CORE_FONTS_RC if fmt == "pdf" and core_fonts else RC):
        if fmt == "png":
            return _png(figure)
        buffer = io.BytesIO()
        metadata = {"svg": {"Date": None}}.get(fmt, {"CreationDate": None})
        figure.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
        return buffer.getvalue()


def write_file(path: Path, data: bytes) -> None:
    """Write atomically: readers of the site never see half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _png(figure: Figure) -> bytes:
    """The figure as PNG: its pixels as Agg draws them (``savefig(format="rgba")``),
    encoded here (``encode_png``), three times quicker than by Pillow for as many bytes."""
    raw = io.BytesIO()
    figure.savefig(raw, format="rgba", dpi=DPI)
    width, height = figure.canvas.get_width_height(physical=True)
    if len(raw.getvalue()) != width * height * 4:  # a layout changed the size: let Pillow
        png = io.BytesIO()
        figure.savefig(png, format="png", dpi=DPI, metadata={"Software": None})
        return png.getvalue()
    pixels = np.frombuffer(raw.getbuffer(), np.uint8).reshape(height, width, 4)
    return encode_png(pixels, DPI)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(rgba: np.ndarray, dpi: float, level: int = 2) -> bytes:
    """An RGBA image (height × width × 4 bytes) as PNG, every line with the "Up" filter
    (each byte minus the one above it), which leaves charts' flat areas as runs of zeros,
    deflated by zlib-ng (the same format as zlib's, three times quicker)."""
    height, width, _ = rgba.shape
    lines = rgba.reshape(height, width * 4)
    filtered = np.empty((height, width * 4 + 1), np.uint8)
    filtered[:, 0] = 2  # filter type "Up"; the first line's "above" is zeros
    filtered[0, 1:] = lines[0]
    np.subtract(lines[1:], lines[:-1], out=filtered[1:, 1:])  # modulo 256, as PNG wants
    per_metre = round(dpi / 0.0254)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)),
            _png_chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
            _png_chunk(b"IDAT", zlib_ng.compress(filtered.data, level)),
            _png_chunk(b"IEND", b""),
        ]
    )


def new_figure(
    width: float, height: float, layout: Literal["constrained"] | None = "constrained"
) -> Figure:
    """A figure on its own Agg canvas (no pyplot state). Constrained layout keeps every
    label and legend inside the figure; scorecards, drawn by the thousand, use fixed axes
    positions (``layout=None``) whose labels are sized to fit."""
    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(width, height), dpi=DPI, layout=layout)
        FigureCanvasAgg(figure)
        return figure


# --- Formatting ---------------------------------------------------------------------------


def fr(value: Decimal | float | int | None, places: int = 1) -> str:
    if value is None:
        return "—"
    return format_decimal_fr(Decimal(str(value)), places)


def percent(ratio: Decimal | None, places: int = 0, signed: bool = True) -> str:
    if ratio is None:
        return "non calculable"
    text = format_decimal_fr(ratio * 100, places)
    if signed and ratio > 0:
        text = "+" + text
    return f"{text}\u00a0%"


def years(value: Decimal | None) -> str:
    return "non communiquée" if value is None else f"{fr(value, 1)}\u00a0ans"


class FrenchNumberFormatter(Formatter):
    """Tick labels in French (decimal comma), with as many decimals as it takes for no two
    labels to read the same (``places`` at least, 3 at most)."""

    def __init__(self, places: int = 0, suffix: str = "") -> None:
        self.places, self.suffix = places, suffix
        self.shown = places

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{fr(x, self.shown)}{self.suffix}"

    def format_ticks(self, values: Any) -> list[str]:
        """The fewest decimals that write every tick exactly (ticks are round numbers), or
        at least tell them apart."""
        fallback = None
        for places in range(self.places, 4):
            self.shown = places
            labels = [self(v) for v in values]
            if len(set(labels)) == len(labels):
                if all(abs(v - round(v, places)) < 1e-9 for v in values):
                    return labels
                fallback = fallback or places
        self.shown = fallback if fallback is not None else 3
        return [self(v) for v in values]


class FrenchDateFormatter(Formatter):
    """Date tick labels as coarse as the ticks allow without two reading the same: the year
    when every tick is a 1 January, else month and year when every tick is a first of the
    month, else the day too."""

    FORMATS = ("%Y", "%m/%Y", "%d/%m/%Y")

    def __init__(self) -> None:
        self.fmt = self.FORMATS[-1]

    def __call__(self, x: float, pos: int | None = None) -> str:
        return num2date(x).strftime(self.fmt)

    def format_ticks(self, values: Any) -> list[str]:
        days = [num2date(v) for v in values]
        for fmt in self.FORMATS:
            if fmt == "%Y" and any((d.month, d.day) != (1, 1) for d in days):
                continue
            if fmt == "%m/%Y" and any(d.day != 1 for d in days):
                continue
            labels = [d.strftime(fmt) for d in days]
            if len(set(labels)) == len(labels):
                self.fmt = fmt
                return labels
        self.fmt = self.FORMATS[-1]
        return [d.strftime(self.fmt) for d in days]


def date_axis(axis: Any, maxticks: int = 6) -> None:
    """A time axis: ticks where the calendar has them, labelled by ``FrenchDateFormatter``."""
    axis.set_major_locator(AutoDateLocator(minticks=2, maxticks=maxticks))
    axis.set_major_formatter(FrenchDateFormatter())


def count_axis(axis: Any, *, integer: bool = True) -> None:
    """A value axis with a few round ticks, in French, never the same label twice."""
    axis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10], integer=integer))
    axis.set_major_formatter(FrenchNumberFormatter())


def wrap(text: str, width: int) -> str:
    """``text`` on lines of at most ``width`` characters (whole words: nothing is cut)."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False)) or text


# --- Portfolio charts -------------------------------------------------------------------


def key_figures(view: EditionView) -> Chart:
    f = view.figures
    mean = f.get("mean_duration_years")
    items = [
        (str(f["projects"]), "projets suivis"),
        (str(f["interministerial"]), "projets interministériels"),
        (fr(Decimal(f["total_cost_bn"]), 2), "milliards d'euros"),
        ("—" if mean is None else fr(Decimal(mean), 1), "années de durée moyenne"),
    ]
    with matplotlib.rc_context(RC):
        fig = new_figure(PORTFOLIO_WIDTH, 3.2)
        for i, (number, label) in enumerate(items):  # two by two: readable on a phone
            x, y = 0.25 + 0.5 * (i % 2), 0.75 - 0.5 * (i // 2)
            fig.text(
                x,
                y,
                number,
                ha="center",
                va="center",
                fontsize=26,
                weight="bold",
                color=OKABE_ITO["blue"],
            )
            fig.text(x, y - 0.17, label, ha="center", va="center", fontsize=11)
    alt = "Chiffres clés : " + ", ".join(f"{n} {label}" for n, label in items) + "."
    return Chart(
        "chiffres-cles",
        "Chiffres clés",
        alt,
        ["Indicateur", "Valeur"],
        [[label, n] for n, label in items],
        fig,
    )


def by_ministry_and_phase(view: EditionView) -> Chart:
    counts: dict[str, dict[str, int]] = {}
    for row in view.rows:
        phase = row.get("phase") or "Non renseignée"
        counts.setdefault(row.ministry, {}).setdefault(phase, 0)
        counts[row.ministry][phase] += 1
    ministries = sorted(counts, key=lambda m: (-sum(counts[m].values()), m))
    phases = [p for p in PHASE_ORDER if any(p in c for c in counts.values())]
    with matplotlib.rc_context(RC):
        fig = new_figure(PORTFOLIO_WIDTH, max(3.5, 0.32 * len(ministries) + 2.4))
        ax = fig.add_subplot()
        left = [0] * len(ministries)
        for phase in phases:
            i = PHASE_ORDER.index(phase)
            widths = [counts[m].get(phase, 0) for m in ministries]
            ax.barh(
                [wrap(m, 30) for m in ministries],
                widths,
                left=left,
                label=phase,
                color=PHASE_COLOURS[i],
                hatch=PHASE_HATCHES[i],
                edgecolor="white",
                linewidth=0.5,
            )
            left = [a + b for a, b in zip(left, widths, strict=True)]
        for y, total in enumerate(left):
            ax.annotate(
                str(total), (total, y), xytext=(3, 0), textcoords="offset points", va="center"
            )
        ax.invert_yaxis()  # the most projects on top
        ax.set_xlim(0, max(left, default=1) * 1.1 or 1)
        ax.set_xlabel("Nombre de projets")
        count_axis(ax.xaxis)
        ax.tick_params(axis="y", labelsize=9)
        fig.legend(loc="outside lower center", title="Phase", ncols=2, frameon=False, fontsize=9)
    headers = ["Ministère", *phases, "Total"]
    rows = [
        [m, *[str(counts[m].get(p, 0)) for p in phases], str(sum(counts[m].values()))]
        for m in ministries
    ]
    top = ", ".join(f"{r[0]} ({r[-1]})" for r in rows[:3])
    alt = (
        f"Barres empilées : nombre de projets par ministère et par phase. "
        f"{len(ministries)} ministères ; les plus représentés : {top}."
    )
    return Chart("ministeres-phases", "Projets par ministère et par phase", alt, headers, rows, fig)


def by_cost_bracket(view: EditionView) -> Chart:
    counts = view.figures.get("by_cost_bracket", {})
    brackets = [b for b in COST_BRACKETS if b in counts] + [
        b for b in counts if b not in COST_BRACKETS
    ]
    values = [counts[b] for b in brackets]
    with matplotlib.rc_context(RC):
        fig = new_figure(PORTFOLIO_WIDTH, 4.2)
        ax = fig.add_subplot()
        bars = ax.bar([wrap(b, 12) for b in brackets], values, color=OKABE_ITO["blue"])
        ax.bar_label(bars, labels=[str(v) for v in values], padding=2)
        ax.set_ylim(0, max(values, default=1) * 1.12 or 1)
        ax.set_ylabel("Nombre de projets")
        count_axis(ax.yaxis)
        ax.tick_params(axis="x", labelsize=9)
    rows = [[b, str(v)] for b, v in zip(brackets, values, strict=True)]
    alt = (
        "Histogramme : nombre de projets par tranche de coût. "
        + "; ".join(f"{b} : {v}" for b, v in zip(brackets, values, strict=True))
        + "."
    )
    return Chart(
        "tranches-cout",
        "Projets par tranche de coût",
        alt,
        ["Tranche de coût", "Projets"],
        rows,
        fig,
    )


OTHER_ZONES = "Autres zones"


def by_functional_zone(view: EditionView, top: int = 15) -> Chart:
    """The zones with the most projects, most first; the others together last (a group of
    several zones is not a zone: it is never ranked among them, however many projects)."""
    counts = view.figures.get("by_functional_zone", {})
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ordered[:top]
    rest = sum(v for _, v in ordered[top:])
    if rest:
        shown.append((f"{OTHER_ZONES} ({len(ordered) - top})", rest))
    labels = [wrap(k, 34) for k, _ in shown]
    values = [v for _, v in shown]
    lines = sum(label.count("\n") + 1 for label in labels)
    with matplotlib.rc_context(RC):
        fig = new_figure(PORTFOLIO_WIDTH, max(3.0, 0.2 * lines + 0.15 * len(shown) + 1.2))
        ax = fig.add_subplot()
        colours = [OKABE_ITO["green"]] * len(ordered[:top]) + [GREY] * bool(rest)
        bars = ax.barh(range(len(shown)), values, color=colours)
        ax.set_yticks(range(len(shown)), labels)
        ax.invert_yaxis()  # the first on top, the others last
        ax.bar_label(bars, labels=[str(v) for v in values], padding=2, fontsize=9)
        ax.set_xlim(0, max(values, default=1) * 1.12 or 1)
        ax.set_xlabel("Nombre de projets")
        count_axis(ax.xaxis)
        ax.tick_params(axis="y", labelsize=8)
    rows = [[k, str(v)] for k, v in ordered]
    alt = (
        f"Barres horizontales : nombre de projets par zone fonctionnelle ({len(ordered)} zones"
        + (f", dont les {len(ordered) - top} plus petites regroupées en fin" if rest else "")
        + "). "
        + "; ".join(f"{k} : {v}" for k, v in ordered[:3])
        + "."
    )
    return Chart(
        "zones-fonctionnelles",
        "Projets par zone fonctionnelle",
        alt,
        ["Zone fonctionnelle", "Projets"],
        rows,
        fig,
    )


def drift_bubbles(view: EditionView) -> Chart:
    points = [
        (r, r.decimal("schedule_drift_initial"), r.decimal("budget_drift_initial"))
        for r in view.rows
    ]
    measured = [(r, s, b) for r, s, b in points if s is not None and b is not None]
    with matplotlib.rc_context(RC):
        fig = new_figure(PORTFOLIO_WIDTH, 6.4)
        ax = fig.add_subplot()
        biggest = max((r.get("cost_eur") or 0 for r, _, _ in measured), default=0) or 1
        for health in ("vert", "orange", "rouge"):
            group = [(r, s, b) for r, s, b in measured if r.get("health") == health]
            if not group:
                continue
            ax.scatter(
                [float(s * 100) for _, s, _ in group],
                [float(b * 100) for _, _, b in group],
                s=[30 + 600 * (r.get("cost_eur") or 0) / biggest for r, _, _ in group],
                c=HEALTH_COLOURS[health],
                marker=HEALTH_MARKERS[health],
                alpha=0.75,
                edgecolors=TEXT,
                linewidths=0.5,
                label=f"santé {health} ({len(group)})",
            )
        for level in (10, 30):
            ax.axhline(level, color=GREY, linewidth=0.8, linestyle="--")
            ax.axvline(level, color=GREY, linewidth=0.8, linestyle="--")
        ax.axhline(0, color=TEXT, linewidth=0.6)
        ax.axvline(0, color=TEXT, linewidth=0.6)
        ax.set_xlabel("Dérive calendaire depuis la référence initiale (%)")
        ax.set_ylabel("Dérive budgétaire depuis la référence initiale (%)")
        count_axis(ax.xaxis)
        count_axis(ax.yaxis)
        if measured:
            # Under the chart, outside the data: it never hides a bubble.
            fig.legend(
                loc="outside lower center",
                ncols=3,
                frameon=False,
                fontsize=9,
                title="Surface = coût actuel ; couleur et forme = santé calculée",
                title_fontsize=9,
                markerscale=0.6,
            )
        else:
            ax.text(0.5, 0.5, "Aucune dérive calculable", ha="center", transform=ax.transAxes)
    ordered = sorted(measured, key=lambda t: -(max(t[1], t[2])))
    rows = [
        [
            r.pilot_id,
            r.name,
            percent(b),
            percent(s),
            format_meur(r.get("cost_eur")),
            HEALTH_LABELS[r.get("health")],
        ]
        for r, s, b in ordered
    ]
    red = sum(1 for r, _, _ in measured if r.get("health") == "rouge")
    amber = sum(1 for r, _, _ in measured if r.get("health") == "orange")
    alt = (
        f"Nuage de bulles : dérive budgétaire en fonction de la dérive calendaire pour "
        f"{len(measured)} projets mesurés (surface proportionnelle au coût). "
        f"{red} en santé rouge (dérive de 30 % ou plus), {amber} en orange (10 à 30 %), "
        f"{len(measured) - red - amber} en vert."
    )
    return Chart(
        "derives",
        "Dérive budgétaire et dérive calendaire",
        alt,
        [
            "Identifiant",
            "Projet",
            "Dérive budgétaire",
            "Dérive calendaire",
            "Coût actuel",
            "Santé calculée",
        ],
        rows,
        fig,
    )


def trends(history: Sequence[EditionSummary]) -> Chart:
    """The key figures of DINUM's real editions, oldest first, at their publication dates
    (on a time axis: editions months or years apart are drawn so), each value axis from
    zero. An edition holding demo data (fictitious) is never drawn as part of the series."""
    left_out = sum(1 for h in history if h.demo)
    history = [h for h in history if not h.demo]
    days = [h.published_on for h in history]
    projects = [int(h.figures["projects"]) for h in history]
    costs = [Decimal(h.figures["total_cost_bn"]) for h in history]
    means = [
        None
        if h.figures.get("mean_duration_years") is None
        else Decimal(h.figures["mean_duration_years"])
        for h in history
    ]
    with matplotlib.rc_context(RC):
        fig = new_figure(PORTFOLIO_WIDTH, 7.5)
        axes = fig.subplots(3, 1, sharex=True)
        series: list[tuple[Axes, list[Any], str, str, str, int]] = [
            (axes[0], projects, "Projets suivis", OKABE_ITO["blue"], "o", 0),
            (axes[1], costs, "Coût total (Md€)", OKABE_ITO["vermillion"], "s", 1),
            (axes[2], means, "Durée moyenne (années)", OKABE_ITO["green"], "D", 1),
        ]
        for ax, values, title, colour, marker, places in series:
            known = [(d, float(v)) for d, v in zip(days, values, strict=True) if v is not None]
            when = np.array([d for d, _ in known], dtype="datetime64[D]")
            ax.plot(when, [v for _, v in known], marker=marker, color=colour)
            for d, v in zip(date2num(when), (v for _, v in known), strict=True):
                ax.annotate(
                    fr(v, 2 if places else 0),
                    (d, v),
                    textcoords="offset points",
                    xytext=(0, 6),
                    ha="center",
                    fontsize=8,
                )
            ax.set_title(title, fontsize=10, loc="left")
            top = max((v for _, v in known), default=1.0) or 1.0
            ax.set_ylim(0, top * 1.25)  # from zero: a reader compares heights
            count_axis(ax.yaxis, integer=places == 0)
            ax.grid(axis="y", color="#DDDDDD", linewidth=0.6)
        if days:
            first, last = min(days), max(days)
            margin = max(45, (last - first).days // 12)
            axes[2].set_xlim(  # in days, within the dates Python knows
                date.fromordinal(max(1, first.toordinal() - margin)),
                date.fromordinal(min(last.toordinal() + margin, date.max.toordinal())),
            )
            date_axis(axes[2].xaxis, maxticks=5)
        axes[2].set_xlabel("Date de publication de l'édition")
    rows = [
        [f"n° {h.number}", h.published_on.strftime("%d/%m/%Y"), str(p), fr(c, 2), fr(m, 1)]
        for h, p, c, m in zip(history, projects, costs, means, strict=True)
    ]
    if history:
        alt = (
            f"Courbes des chiffres clés sur {len(history)} éditions, à leur date de "
            f"publication : de {projects[0]} à {projects[-1]} projets suivis, de "
            f"{fr(costs[0], 2)} à {fr(costs[-1], 2)} milliards d'euros."
        )
    else:
        alt = "Aucune édition publiée."
    if left_out:
        alt += (
            f" {left_out} édition(s) de démonstration, aux données fictives, ne sont pas tracées."
        )
    return Chart(
        "tendances",
        "Évolution des chiffres clés d'une édition à l'autre",
        alt,
        ["Édition", "Date", "Projets suivis", "Coût total (Md€)", "Durée moyenne (années)"],
        rows,
        fig,
    )


PORTFOLIO_CHARTS: list[Callable[[EditionView], Chart]] = [
    key_figures,
    by_ministry_and_phase,
    by_cost_bracket,
    by_functional_zone,
    drift_bubbles,
    lambda view: trends(view.history),
]


def portfolio_charts(view: EditionView) -> list[Chart]:
    charts = [build(view) for build in PORTFOLIO_CHARTS]
    core_fonts = fits_core_fonts(view.title, [[r.data, r.values] for r in view.rows])
    for chart in charts:
        chart.core_fonts = core_fonts
    return charts


# --- Project scorecard ------------------------------------------------------------------


def _short(text: str, width: int) -> str:
    """An abbreviation of ``text`` marked as such ("…"); the full text is in the table."""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _meur(eur: int | None) -> float | None:
    return None if eur is None else float(Decimal(eur) / MILLION)


def _fr_date(value: str | None) -> str:
    return "—" if not value else date.fromisoformat(value).strftime("%d/%m/%Y")


def _criticality_colour(criticality: int) -> str:
    return "#FBE9C6" if criticality < 5 else "#F4C27A" if criticality < 9 else "#E8927C"


def _scorecard_facts(row: ProjectView) -> dict[str, Any]:
    v = row.get
    health = v("health")
    weather = v("weather")
    return {
        "health": health,
        "health_text": WITHHELD_TEXT
        if row.confidential
        else HEALTH_LABELS.get(health, "non calculée"),
        "weather": weather,
        "weather_text": WITHHELD_TEXT
        if row.confidential
        else ("non déclarée" if weather is None else WEATHER_LABELS.get(weather, str(weather))),
        "start_text": WITHHELD_TEXT if row.confidential else _fr_date(v("start")),
        "phase": v("phase") or "non renseignée",
        "costs": [_meur(v("initial_cost_eur")), _meur(v("latest_cost_eur")), _meur(v("cost_eur"))],
        "durations": [
            row.decimal("initial_duration_years"),
            row.decimal("latest_duration_years"),
            row.decimal("duration_years"),
        ],
    }


SCORECARD_LABELS = ["Référence initiale", "Dernière référence", "Actuel"]


def scorecard_text(row: ProjectView) -> Chart:
    """The scorecard's title, text alternative and data table, without drawing it."""
    v = row.get
    facts = _scorecard_facts(row)
    phase, health_text, durations = facts["phase"], facts["health_text"], facts["durations"]
    labels = SCORECARD_LABELS
    risks = v("risks") or []
    critical = sum(1 for r in risks if r["probability"] * r["impact"] >= 9)
    rows = [
        ["Phase", phase],
        *[
            [f"Coût, {label.lower()}", format_meur(v(key))]
            for label, key in zip(
                labels, ("initial_cost_eur", "latest_cost_eur", "cost_eur"), strict=True
            )
        ],
        *[
            [f"Durée, {label.lower()}", years(d)]
            for label, d in zip(labels, durations, strict=True)
        ],
        [
            "Dérive budgétaire depuis la référence initiale",
            percent(row.decimal("budget_drift_initial")),
        ],
        [
            "Dérive budgétaire depuis la dernière référence",
            percent(row.decimal("budget_drift_latest")),
        ],
        [
            "Dérive calendaire depuis la référence initiale",
            percent(row.decimal("schedule_drift_initial")),
        ],
        [
            "Dérive calendaire depuis la dernière référence",
            percent(row.decimal("schedule_drift_latest")),
        ],
        ["Météo déclarée", facts["weather_text"]],
        ["Santé calculée", health_text],
        ["Jalons", str(len(v("milestones") or []))],
        ["Risques ouverts (dont criticité 9 ou plus)", f"{len(risks)} ({critical})"],
    ]
    if row.confidential:
        rows = [rows[0], *[[label, WITHHELD_TEXT] for label, _ in rows[1:]]]
        alt = (
            f"Fiche du projet {row.name} ({row.ministry}), phase {phase} : chiffres non "
            "communiqués (projet confidentiel)."
        )
    else:
        alt = (
            f"Fiche du projet {row.name} ({row.ministry}), phase {phase}. Coût actuel "
            f"{format_meur(v('cost_eur'))} contre {format_meur(v('initial_cost_eur'))} à la "
            f"référence initiale (dérive {percent(row.decimal('budget_drift_initial'))}) ; durée "
            f"{years(durations[2])} contre {years(durations[0])} (dérive "
            f"{percent(row.decimal('schedule_drift_initial'))}). Santé calculée : {health_text} ; "
            f"météo déclarée : {facts['weather_text']}. "
            f"{len(v('milestones') or [])} jalons, {len(v('risks') or [])} risques ouverts."
        )
    return Chart(
        row.pilot_id,
        f"Fiche du projet {row.name}",
        alt,
        ["Indicateur", "Valeur"],
        rows,
        None,
    )


SCORECARD_AXES = [  # costs, durations, milestones, risks: fixed places (no layout to compute)
    (0.17, 0.55, 0.29, 0.24),
    (0.67, 0.55, 0.29, 0.24),
    (0.17, 0.07, 0.33, 0.32),
    (0.62, 0.07, 0.34, 0.32),
]
MAX_MILESTONES = 8  # shown on a scorecard (all are in its data table)
MILESTONE_NAME_WIDTH = 28  # characters: the room left of the milestones' axes
MILESTONE_KINDS = [  # key in a milestone, label, marker, face and edge colours
    ("baseline", "référence", "o", "none", OKABE_ITO["blue"]),
    ("forecast", "prévision", ">", OKABE_ITO["orange"], OKABE_ITO["orange"]),
    ("actual", "réalisé", "s", OKABE_ITO["green"], OKABE_ITO["green"]),
]


def _row_labels(ax: Axes, labels: Sequence[str], fontsize: float) -> None:
    """Name the rows 0, 1, … of ``ax`` left of it, as plain texts in the axes' y-axis
    transform, the y-axis hidden: rows named by what they face need no tick or locator
    (a scorecard draws about thirty such labels, and ticks cost ten times a text)."""
    transform = ax.get_yaxis_transform()
    for y, label in enumerate(labels):
        ax.text(-0.02, y, label, fontsize=fontsize, ha="right", va="center", transform=transform)
    ax.yaxis.set_visible(False)


def _bars(ax: Axes, title: str, values: list[float | None], unit: str, colours: list[str]) -> None:
    """The bars of ``values`` (top down), each labelled with its value (so no graduated
    axis: it would only repeat them), from zero."""
    known = [0.0 if v is None else v for v in values]
    bars = ax.barh(range(len(known)), known, height=0.6, color=colours)
    ax.bar_label(
        bars,
        labels=[("non communiqué" if v is None else f"{fr(v, 1)}\u00a0{unit}") for v in values],
        padding=3,
        fontsize=9,
    )
    _row_labels(ax, SCORECARD_LABELS, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, max([*known, 1.0]) * 1.45)
    ax.xaxis.set_visible(False)
    ax.spines["bottom"].set_visible(False)
    ax.set_title(title, fontsize=10, loc="left", y=1.0)


def _milestones(ax: Axes, milestones: list[dict[str, Any]]) -> None:
    ax.set_title("Jalons : référence, prévision, réalisé", fontsize=10, loc="left", y=1.0, pad=22)
    if not milestones:
        ax.text(
            0.5, 0.5, "Aucun jalon communiqué", ha="center", va="center", transform=ax.transAxes
        )
        ax.set_axis_off()
        return
    shown = milestones[:MAX_MILESTONES]
    for key, label, marker, face, edge in MILESTONE_KINDS:
        rows = [i for i, m in enumerate(shown) if m.get(key)]
        ax.plot(
            np.array([shown[i][key] for i in rows], dtype="datetime64[D]"),
            rows,
            linestyle="none",
            marker=marker,
            markersize=7,
            markerfacecolor=face,
            markeredgecolor=edge,
            markeredgewidth=1.5,
            label=label,
        )
    _row_labels(ax, [_short(m["name"], MILESTONE_NAME_WIDTH) for m in shown], fontsize=8)
    ax.set_ylim(len(shown) - 0.5, -0.5)  # a row per milestone, top down
    ax.margins(x=0.08)
    date_axis(ax.xaxis, maxticks=5)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", color="#DDDDDD", linewidth=0.5)
    # Above the axes, under the title: never over the marks.
    ax.legend(
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncols=len(MILESTONE_KINDS),
        frameon=False,
        fontsize=8,
        borderaxespad=0.2,
    )


def _risk_matrix(ax: Axes, risks: list[dict[str, Any]]) -> None:
    cells = [(p, i) for p in range(4) for i in range(4)]
    ax.add_collection(
        PatchCollection(
            [Rectangle((i + 0.5, p + 0.5), 1, 1) for p, i in cells],
            facecolors=[_criticality_colour((p + 1) * (i + 1)) for p, i in cells],
            edgecolors="white",
            linewidths=2,
        )
    )
    grid = [[0] * 4 for _ in range(4)]
    for r in risks:
        grid[r["probability"] - 1][r["impact"] - 1] += 1
    for p, i in cells:
        if grid[p][i]:
            ax.text(
                i + 1, p + 1, str(grid[p][i]), ha="center", va="center", fontsize=12, weight="bold"
            )
    ax.set_xlim(0.5, 4.5)
    ax.set_ylim(0.5, 4.5)
    # The cells' numbers as plain texts beside them (see ``_row_labels``).
    x_labels, y_labels = ax.get_xaxis_transform(), ax.get_yaxis_transform()
    for k in range(1, 5):
        ax.text(k, -0.03, str(k), ha="center", va="top", transform=x_labels)
        ax.text(-0.03, k, str(k), ha="right", va="center", transform=y_labels)
    ax.xaxis.set_visible(False)
    ax.yaxis.set_visible(False)
    ax.text(0.5, -0.12, "Impact (1 à 4)", fontsize=9, ha="center", va="top", transform=ax.transAxes)
    ax.text(
        -0.1,
        0.5,
        "Probabilité (1 à 4)",
        fontsize=9,
        ha="right",
        va="center",
        rotation="vertical",
        transform=ax.transAxes,
    )
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_aspect("equal")
    ax.set_title("Risques ouverts : probabilité × impact", fontsize=10, loc="left", y=1.0)
    if not risks:
        ax.text(
            2.5,
            2.5,
            "Aucun risque ouvert communiqué",
            ha="center",
            va="center",
            fontsize=9,
            bbox={"facecolor": "white", "edgecolor": GREY},
        )


def scorecard(row: ProjectView) -> Chart:
    """One project's scorecard: identity, phase, cost and duration against the initial and
    latest baseline, milestones, risks, declared météo beside the computed health. A new
    figure each time, built with ordinary ``Axes`` calls."""
    chart = scorecard_text(row)
    v = row.get
    facts = _scorecard_facts(row)
    health, costs, durations = facts["health"], facts["costs"], facts["durations"]
    phase, health_text = facts["phase"], facts["health_text"]
    colours = [GREY, OKABE_ITO["sky"], HEALTH_COLOURS.get(health, OKABE_ITO["blue"])]
    with matplotlib.rc_context(RC):
        fig = new_figure(10, 7.2, layout=None)
        cost_ax, duration_ax, milestones_ax, risks_ax = (fig.add_axes(r) for r in SCORECARD_AXES)
        line = f"Météo déclarée : {facts['weather_text']}   ·   santé calculée : {health_text}"
        if v("weather_rosier"):
            line += "   ·   la météo déclarée est plus favorable que la santé calculée"
        # A long name in a smaller font, whole up to 90 characters (in the page's title and
        # the data table in any case).
        name = f"{row.name} ({row.ministry})"
        fig.text(
            0.015,
            0.955,
            _short(name, 90),
            fontsize=15 if len(name) <= 60 else 11,
            weight="bold",
        )
        fig.text(0.015, 0.915, f"{row.pilot_id} · phase : {phase} · début : {facts['start_text']}")
        fig.text(0.015, 0.87, line, weight="bold")
        if row.confidential:
            for ax in (cost_ax, duration_ax):
                ax.set_axis_off()
                ax.text(
                    0.5,
                    0.5,
                    "Chiffres non communiqués\n(projet confidentiel)",
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                )
        else:
            _bars(
                cost_ax,
                "Coût (M€)\ndérive depuis la référence initiale : "
                + percent(row.decimal("budget_drift_initial")),
                costs,
                "M€",
                colours,
            )
            _bars(
                duration_ax,
                "Durée (années)\ndérive depuis la référence initiale : "
                + percent(row.decimal("schedule_drift_initial")),
                [None if d is None else float(d) for d in durations],
                "ans",
                colours,
            )
        _milestones(milestones_ax, v("milestones") or [])
        _risk_matrix(risks_ax, v("risks") or [])
    chart.figure = fig
    chart.core_fonts = fits_core_fonts(row.data, row.values)
    return chart
