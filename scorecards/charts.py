"""The panorama's charts, drawn with matplotlib's object API (``Figure`` + Agg: no pyplot
state is ever created, so it is safe in threads and worker processes).

Every chart is a :class:`Chart`: a figure plus what a reader who cannot see it needs
(a French text alternative and the table of its data). One colour-blind-safe palette
(Okabe–Ito) everywhere; the computed health is also written, never told by colour alone.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import struct
import weakref
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import matplotlib
import numpy as np
from matplotlib._afm import AFM
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import Name, PdfFile
from matplotlib.collections import PatchCollection, PolyCollection
from matplotlib.dates import AutoDateLocator, DateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator
from matplotlib.transforms import ScaledTranslation
from zlib_ng import zlib_ng

from pilot.indicators.figures import COST_BRACKETS
from pilot.money import MILLION, format_decimal_fr, format_meur
from pilot.projects.confidentiality import WITHHELD_TEXT
from scorecards import text_cache
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
RC: Any = {
    # DejaVu Sans (shipped with matplotlib) in PNG and SVG; Helvetica in PDF pages that use
    # the standard PDF fonts (see ``PDF_CORE_FONTS_RC``).
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Helvetica"],
    "font.size": 10,
    "text.color": TEXT,
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


@functools.cache
def _afm_font_name(filename: str) -> str:
    with open(filename, "rb") as fh:
        return str(AFM(fh).get_fontname())


def _write_afm_font(self: PdfFile, filename: str) -> Any:
    """``PdfFile._write_afm_font`` reading each standard font's metrics file once per
    process: matplotlib parses it again for every PDF (about 18 ms a font) only to take the
    font's name, which made it most of the time of writing a one-page PDF."""
    font = self.reserveObject("font dictionary")
    self.writeObject(
        font,
        {
            "Type": Name("Font"),
            "Subtype": Name("Type1"),
            "BaseFont": Name(_afm_font_name(filename)),
            "Encoding": Name("WinAnsiEncoding"),
        },
    )
    return font


if hasattr(PdfFile, "_write_afm_font"):  # a later matplotlib may do without it
    PdfFile._write_afm_font = _write_afm_font  # type: ignore[method-assign]
text_cache.install()  # text laid out, measured and rendered once per process, not per draw


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
        engine = self.figure.get_layout_engine()
        for fmt in formats:
            path = folder / f"{self.slug}.{fmt}"
            write_figure(self.figure, path, fmt, core_fonts=self.core_fonts)
            written.append(path)
            # Laid out once: the next formats keep these places (the layout costs more than
            # the drawing). Whoever resizes the figure sets its layout engine back.
            self.figure.set_layout_engine("none")
        self.figure.set_layout_engine(engine)
        return written

    def table(self) -> dict[str, Any]:
        return {"title": self.title, "alt": self.alt, "headers": self.headers, "rows": self.rows}


@contextmanager
def rc_settings(params: dict[str, Any]) -> Iterator[None]:
    """``matplotlib.rc_context(params)`` for the few rcParams a chart sets: only those that
    differ are set, then restored. rc_context copies and restores all 300 of them (half a
    millisecond, four times per scorecard)."""
    rc: Any = matplotlib.rcParams
    saved = {key: rc[key] for key, value in params.items() if rc[key] != value}
    rc.update({key: params[key] for key in saved})
    try:
        yield
    finally:
        rc.update(saved)


def write_figure(figure: Figure, path: Path, fmt: str, *, core_fonts: bool = False) -> None:
    """Write atomically (see ``write_file``) the figure in ``fmt`` (see ``figure_data``)."""
    write_file(path, figure_data(figure, fmt, core_fonts=core_fonts))


def figure_data(figure: Figure, fmt: str, *, core_fonts: bool = False) -> bytes:
    """The figure as a PNG, SVG or PDF file. ``core_fonts``: a PDF uses the standard fonts
    (only when ``fits_core_fonts`` says they can write its text)."""
    with rc_settings(PDF_CORE_FONTS_RC if fmt == "pdf" and core_fonts else RC):
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
    """The figure as PNG: drawn by Agg as matplotlib would, encoded here (``encode_png``),
    three times quicker than by Pillow for as many bytes."""
    raw = io.BytesIO()
    figure.savefig(raw, format="rgba", dpi=DPI)
    width, height = figure.canvas.get_width_height(physical=True)
    if figure.dpi != DPI or len(raw.getvalue()) != width * height * 4:  # not met so far
        png = io.BytesIO()
        figure.savefig(
            png,
            format="png",
            dpi=DPI,
            metadata={"Software": None},
            pil_kwargs={"compress_level": 3},
        )
        return png.getvalue()
    pixels = np.frombuffer(raw.getbuffer(), np.uint8).reshape(height, width, 4)
    return encode_png(pixels, DPI)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(rgba: np.ndarray, dpi: float, level: int = 2) -> bytes:
    """An RGBA image (height × width × 4 bytes) as PNG, every line with the "Up" filter
    (each byte minus the one above it), which leaves charts' flat areas as runs of zeros:
    zlib then packs them as small as Pillow's adaptive filters (which try five filters on
    every line, most of the time Pillow took). Deflated by zlib-ng: the same format as
    zlib's, three times quicker and a sixth smaller at the same level. Level 2: as small as
    level 3 (0.8 % larger on scorecards) in nine tenths of the time; level 1 is half larger."""
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
    """A figure on its own Agg canvas. Scorecards (drawn by the thousand) use fixed axes
    positions (``layout=None``): constrained layout costs more than the drawing."""
    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(width, height), dpi=DPI, layout=layout)
        FigureCanvasAgg(figure)  # Agg, attached to this figure only: no pyplot state
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


def _count_axis(axis: Any) -> None:
    axis.set_major_locator(MaxNLocator(integer=True))
    axis.set_major_formatter(_fr_axis())


def _fr_axis(places: int = 0, suffix: str = "") -> FuncFormatter:
    return FuncFormatter(lambda v, _pos: f"{fr(v, places)}{suffix}")


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
        fig = new_figure(9, 2.2)
        for i, (number, label) in enumerate(items):
            x = (i + 0.5) / len(items)
            fig.text(
                x,
                0.6,
                number,
                ha="center",
                va="center",
                fontsize=30,
                weight="bold",
                color=OKABE_ITO["blue"],
            )
            fig.text(x, 0.22, label, ha="center", va="center", fontsize=11)
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
    ministries = sorted(counts, key=lambda m: (sum(counts[m].values()), m))
    phases = [p for p in PHASE_ORDER if any(p in c for c in counts.values())]
    with matplotlib.rc_context(RC):
        fig = new_figure(9, max(3.0, 0.38 * len(ministries) + 1.4))
        ax = fig.add_subplot()
        left = [0] * len(ministries)
        for phase in phases:
            i = PHASE_ORDER.index(phase)
            widths = [counts[m].get(phase, 0) for m in ministries]
            ax.barh(
                ministries,
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
            ax.text(total + 0.2, y, str(total), va="center", fontsize=9)
        ax.set_xlabel("Nombre de projets")
        _count_axis(ax.xaxis)
        ax.legend(title="Phase", loc="lower right", frameon=False, fontsize=9)
    headers = ["Ministère", *phases, "Total"]
    rows = [
        [m, *[str(counts[m].get(p, 0)) for p in phases], str(sum(counts[m].values()))]
        for m in reversed(ministries)
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
        fig = new_figure(9, 3.4)
        ax = fig.add_subplot()
        bars = ax.bar(brackets, values, color=OKABE_ITO["blue"])
        ax.bar_label(bars, labels=[str(v) for v in values], padding=2)
        ax.set_ylabel("Nombre de projets")
        _count_axis(ax.yaxis)
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


def by_functional_zone(view: EditionView, top: int = 15) -> Chart:
    counts = view.figures.get("by_functional_zone", {})
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ordered[:top]
    rest = sum(v for _, v in ordered[top:])
    if rest:
        shown.append((f"Autres zones ({len(ordered) - top})", rest))
    labels = [_short(k, 55) for k, _ in reversed(shown)]
    values = [v for _, v in reversed(shown)]
    with matplotlib.rc_context(RC):
        fig = new_figure(9, max(3.0, 0.3 * len(shown) + 1.2))
        ax = fig.add_subplot()
        bars = ax.barh(labels, values, color=OKABE_ITO["green"])
        ax.bar_label(bars, labels=[str(v) for v in values], padding=2, fontsize=9)
        ax.set_xlabel("Nombre de projets")
        _count_axis(ax.xaxis)
        ax.tick_params(axis="y", labelsize=8)
    rows = [[k, str(v)] for k, v in ordered]
    alt = (
        f"Barres horizontales : nombre de projets par zone fonctionnelle ({len(ordered)} zones). "
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
        fig = new_figure(9, 5.5)
        ax = fig.add_subplot()
        biggest = max((r.get("cost_eur") or 0 for r, _, _ in measured), default=0) or 1
        for health in ("vert", "orange", "rouge"):
            group = [(r, s, b) for r, s, b in measured if r.get("health") == health]
            if not group:
                continue
            ax.scatter(
                [float(s * 100) for _, s, _ in group],
                [float(b * 100) for _, _, b in group],
                s=[30 + 900 * (r.get("cost_eur") or 0) / biggest for r, _, _ in group],
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
        ax.xaxis.set_major_formatter(_fr_axis())
        ax.yaxis.set_major_formatter(_fr_axis())
        if measured:
            ax.legend(
                loc="upper left",
                frameon=False,
                fontsize=9,
                title="Surface = coût actuel ; couleur et forme = santé calculée",
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
    """The key figures of DINUM's real editions, oldest first: an edition holding demo
    data (fictitious) is never drawn as part of the series."""
    left_out = sum(1 for h in history if h.demo)
    history = [h for h in history if not h.demo]
    labels = [f"n° {h.number}\n{h.published_on.strftime('%m/%Y')}" for h in history]
    projects = [int(h.figures["projects"]) for h in history]
    costs = [Decimal(h.figures["total_cost_bn"]) for h in history]
    means = [
        None
        if h.figures.get("mean_duration_years") is None
        else Decimal(h.figures["mean_duration_years"])
        for h in history
    ]
    with matplotlib.rc_context(RC):
        fig = new_figure(9, 3.2)
        axes = fig.subplots(1, 3)
        series: list[tuple[Axes, list[Any], str, str, int]] = [
            (axes[0], projects, "Projets suivis", OKABE_ITO["blue"], 0),
            (axes[1], costs, "Coût total (Md€)", OKABE_ITO["vermillion"], 2),
            (axes[2], means, "Durée moyenne (années)", OKABE_ITO["green"], 1),
        ]
        x = list(range(len(history)))
        for ax, values, title, colour, places in series:
            known = [(i, float(v)) for i, v in zip(x, values, strict=True) if v is not None]
            ax.plot([i for i, _ in known], [v for _, v in known], marker="o", color=colour)
            for i, v in known:
                ax.annotate(
                    fr(v, places),
                    (i, v),
                    textcoords="offset points",
                    xytext=(0, 6),
                    ha="center",
                    fontsize=8,
                )
            ax.set_title(title, fontsize=10)
            ax.set_xticks(x, labels, fontsize=7)
            ax.yaxis.set_major_formatter(_fr_axis(places))
            ax.margins(x=0.15, y=0.25)
    rows = [
        [f"n° {h.number}", h.published_on.strftime("%d/%m/%Y"), str(p), fr(c, 2), fr(m, 1)]
        for h, p, c, m in zip(history, projects, costs, means, strict=True)
    ]
    if history:
        alt = (
            f"Courbes des chiffres clés sur {len(history)} éditions : de {projects[0]} à "
            f"{projects[-1]} projets suivis, de {fr(costs[0], 2)} à {fr(costs[-1], 2)} "
            f"milliards d'euros."
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
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _meur(eur: int | None) -> float | None:
    return None if eur is None else float(Decimal(eur) / MILLION)


BAR_HEIGHT = 0.6
BAR_LABEL_PAD = 3  # points between a bar and its value


@dataclass
class _BarsFrame:
    """A scorecard's cost or duration bars, as ``_bars_frame`` makes them with the figure:
    what every scorecard rewrites (see ``_bars``)."""

    ax: Axes
    title: Text
    # What ax.barh and ax.bar_label would draw, as one collection of rectangles and plain
    # texts: a patch per bar and an annotation per value (which checks where it points at
    # each draw) cost about a tenth of the time of a scorecard.
    bars: PolyCollection
    values: list[Text]  # a bar's value each


def _bars(
    frame: _BarsFrame,
    title: str,
    values: list[float | None],
    unit: str,
    places: int,
    colours: list[str],
) -> None:
    """The bars of ``values`` (top down), each labelled with its value, under ``title``."""
    known = [0.0 if v is None else v for v in values]
    texts = [("non communiqué" if v is None else f"{fr(v, places)}\u00a0{unit}") for v in values]
    frame.title.set_text(title)
    top, bottom = -BAR_HEIGHT / 2, BAR_HEIGHT / 2
    frame.bars.set_verts(
        [
            [(0, i + top), (w, i + top), (w, i + bottom), (0, i + bottom)]
            for i, w in enumerate(known)
        ]
    )
    frame.bars.set_facecolor(colours)
    for artist, width, text in zip(frame.values, known, texts, strict=True):
        artist.set_x(width)
        artist.set_text(text)
    frame.ax.set_xlim(0, max([*known, 1.0]) * 1.45)


def _bars_frame(ax: Axes, labels: list[str]) -> _BarsFrame:
    """What every scorecard's cost or duration bars share: their labels and limits; and
    their title, bars and values, empty (see ``_bars``)."""
    _fixed(*_tick_labels(ax, "y", range(len(labels)), labels, fontsize=9))
    figure = ax.get_figure(root=True)
    assert figure is not None
    pad = ScaledTranslation(BAR_LABEL_PAD / 72, 0, figure.dpi_scale_trans)
    frame = _BarsFrame(
        ax,
        ax.set_title("", fontsize=10, loc="left", y=1),
        PolyCollection([], edgecolors="none"),
        [
            ax.text(0, i, "", fontsize=9, ha="left", va="center", transform=ax.transData + pad)
            for i in range(len(labels))
        ],
    )
    ax.add_collection(frame.bars, autolim=False)
    _fixed(frame.bars, *frame.values)
    margin = 0.05 * (len(labels) - 1 + BAR_HEIGHT)  # matplotlib's default margins
    ax.set_ylim(len(labels) - 1 + BAR_HEIGHT / 2 + margin, -BAR_HEIGHT / 2 - margin)  # top down
    # Each bar is labelled with its value: a graduated axis would only repeat them.
    ax.xaxis.set_visible(False)
    ax.spines["bottom"].set_visible(False)
    return frame


TICK_LABEL_PAD = 7.0  # points: matplotlib's tick length and pad (3.5 each)


def _tick_labels(
    ax: Axes, which: Literal["x", "y"], positions: Sequence[float], labels: list[str], fontsize: int
) -> list[Text]:
    """Labels of rows, columns or cells, as plain texts where ``which`` axis would put its tick
    labels, and that axis hidden: where labels only name what they face, the axis machinery
    (locator, formatter, a tick of five artists per label, set up again at each draw) is
    pure overhead, and no tick marks are needed."""
    if which == "x":
        transform, va, ha = ax.get_xaxis_text1_transform(TICK_LABEL_PAD)
        xys = [(pos, 0.0) for pos in positions]
    else:
        transform, va, ha = ax.get_yaxis_text1_transform(TICK_LABEL_PAD)
        xys = [(0.0, pos) for pos in positions]
    texts = [
        ax.text(x, y, label, fontsize=fontsize, va=va, ha=ha, transform=transform)
        for (x, y), label in zip(xys, labels, strict=True)
    ]
    (ax.xaxis if which == "x" else ax.yaxis).set_visible(False)
    return texts


LEGEND_Y = 1.15  # the milestones' key, in axes fractions
LEGEND_STEP = 0.32
MARKER_SIZE = 50**0.5  # points: the width of a scatter marker of 50 points²


MILESTONE_KINDS = [  # key in a milestone, label, marker, face and edge colours
    ("baseline", "référence", "o", "none", OKABE_ITO["blue"]),
    ("forecast", "prévision", ">", OKABE_ITO["orange"], OKABE_ITO["orange"]),
    ("actual", "réalisé", "s", OKABE_ITO["green"], OKABE_ITO["green"]),
]


def _marker_style(marker: str, face: str, edge: str) -> dict[str, Any]:
    return {
        "linestyle": "none",
        "marker": marker,
        "markersize": MARKER_SIZE,
        "markerfacecolor": face,
        "markeredgecolor": edge,
        "markeredgewidth": 1.5,
    }


MAX_MILESTONES = 8  # shown on a scorecard (all are in its data table)


def _milestones(ax: Axes, frame: _MilestonesFrame, milestones: list[dict[str, Any]]) -> None:
    for artist in [*frame.key, *frame.marks]:  # no key without milestones
        artist.set_visible(bool(milestones))
    shown = milestones[:MAX_MILESTONES]
    for i, text in enumerate(frame.names):
        text.set_text(_short(shown[i]["name"], 28) if i < len(shown) else "")
    if not milestones:
        ax.text(
            0.5, 0.5, "Aucun jalon communiqué", ha="center", va="center", transform=ax.transAxes
        )
        ax.set_axis_off()
        return
    for (key, *_), marks in zip(MILESTONE_KINDS, frame.marks, strict=True):
        rows = [i for i, m in enumerate(shown) if m.get(key)]
        days = date2num(np.array([shown[i][key] for i in rows], dtype="datetime64[D]"))
        marks.set_data(days, rows)
        marks.set_visible(bool(rows))
        if rows:
            ax.update_datalim(np.column_stack([days, rows]))
    ax.autoscale(axis="x")  # the dates' limits, from the data just given
    # A row per milestone, top down, with matplotlib's default margins, even for rows without
    # a date: set, not found by autoscaling, nor by setting ticks on the hidden axis (which
    # builds a tick of five artists per row).
    margin = 0.05 * (len(shown) - 1) or 0.05
    ax.set_ylim(len(shown) - 1 + margin, -margin)
    # The dates' ticks chosen once (the view is final), not at each format's draw.
    dates = AutoDateLocator(minticks=2, maxticks=6, interval_multiples=True)
    ax.xaxis.set_major_locator(dates)
    ax.xaxis.set_major_locator(FixedLocator(dates()))


@dataclass
class _MilestonesFrame:
    names: list[Text]  # a row's name each, empty beyond the project's milestones
    key: list[Artist]  # markers and texts
    # A kind's marks each (``MILESTONE_KINDS``): markers of one line without a line, not
    # ``ax.scatter``: the same marks, several times quicker to set up.
    marks: list[Line2D]


def _milestones_frame(ax: Axes) -> _MilestonesFrame:
    """What every scorecard's milestones share: the dates' axis, its grid and margins, and
    the key above the title. The key is drawn as a marker and a text per kind: the same as
    ``ax.legend`` would show, without its box layout measured at every draw (about a tenth
    of the time of drawing a scorecard); every kind is in it, whatever the project's dates.
    And the rows' names, empty (see ``_milestones``)."""
    names = _tick_labels(ax, "y", range(MAX_MILESTONES), [""] * MAX_MILESTONES, fontsize=8)
    marks = [
        Line2D([], [], zorder=3, **_marker_style(marker, face, edge))
        for _, _, marker, face, edge in MILESTONE_KINDS
    ]
    for line in marks:
        ax.add_line(line)
    frame = _MilestonesFrame(names, [], marks)
    ax.tick_params(axis="x", labelsize=8, bottom=False)  # the grid marks the dates
    ax.grid(axis="x", color="#DDDDDD", linewidth=0.5)
    ax.xaxis.set_major_formatter(DateFormatter("%m/%Y"))
    ax.margins(x=0.08)
    for k, (_, label, marker, face, edge) in enumerate(MILESTONE_KINDS):
        x = 0.5 + (k - (len(MILESTONE_KINDS) - 1) / 2) * LEGEND_STEP
        style = _marker_style(marker, face, edge)
        key = Line2D([x - 0.09], [LEGEND_Y], transform=ax.transAxes, clip_on=False, **style)
        ax.add_artist(key)
        text = ax.text(x - 0.055, LEGEND_Y, label, fontsize=8, va="center", transform=ax.transAxes)
        frame.key.extend([key, text])
    _fixed(*frame.names, *frame.key, *frame.marks)
    return frame


def _fr_date(value: str | None) -> str:
    return "—" if not value else date.fromisoformat(value).strftime("%d/%m/%Y")


def _criticality_colour(criticality: int) -> str:
    return "#FBE9C6" if criticality < 5 else "#F4C27A" if criticality < 9 else "#E8927C"


def _risk_matrix(ax: Axes, counts: list[Text], risks: list[dict[str, Any]]) -> None:
    """``counts``: the cells' texts (see ``_risk_matrix_frame``)."""
    grid = [[0] * 4 for _ in range(4)]
    for r in risks:
        grid[r["probability"] - 1][r["impact"] - 1] += 1
    for (p, i), text in zip(RISK_CELLS, counts, strict=True):
        text.set_text(str(grid[p][i]) if grid[p][i] else "")
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


RISK_CELLS = [(p, i) for p in range(4) for i in range(4)]


def _risk_matrix_frame(ax: Axes) -> list[Text]:
    """What every scorecard's risk matrix shares: its cells, labels and limits; and the
    texts of the cells' counts of risks, empty (see ``_risk_matrix``)."""
    ax.add_collection(  # one collection, not 16 patches: drawn in one go
        PatchCollection(
            [Rectangle((i + 0.5, p + 0.5), 1, 1) for p, i in RISK_CELLS],
            facecolors=[_criticality_colour((p + 1) * (i + 1)) for p, i in RISK_CELLS],
            edgecolors="white",
            linewidths=2,
        )
    )
    ax.set_xlim(0.5, 4.5)
    ax.set_ylim(0.5, 4.5)
    for which in ("x", "y"):
        _tick_labels(ax, which, [1, 2, 3, 4], ["1", "2", "3", "4"], fontsize=10)
    ax.text(0.5, -0.12, "Impact (1 à 4)", fontsize=9, ha="center", va="top", transform=ax.transAxes)
    ax.text(
        -0.1,
        0.5,
        "Probabilité (1 à 4)",
        fontsize=9,
        ha="center",
        va="bottom",
        rotation="vertical",
        rotation_mode="anchor",
        transform=ax.transAxes,
    )
    counts = [
        ax.text(i + 1, p + 1, "", ha="center", va="center", fontsize=12, weight="bold")
        for p, i in RISK_CELLS
    ]
    _fixed(*ax.collections, *ax.texts)
    ax.set_aspect("equal")
    return counts


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


SCORECARD_AXES = [  # costs, durations, milestones, risks
    (0.17, 0.55, 0.29, 0.24),
    (0.67, 0.55, 0.29, 0.24),
    (0.17, 0.07, 0.33, 0.34),
    (0.62, 0.07, 0.34, 0.34),
]


def _no_ticklabel_bboxes(ticks: Any, renderer: Any) -> tuple[list[Any], list[Any]]:
    """An axis measures all its tick labels at each draw, only to place its offset text
    (which scorecards never have: no axis of theirs shows an offset) and its label (which
    they place at fixed coordinates): about a twentieth of the time of a scorecard."""
    return [], []


# What every scorecard draws the same (labels of bars, the risk matrix's cells and labels),
# and the texts every scorecard rewrites: set up with the figure, kept when it is reused.
_FIXED: weakref.WeakSet[Artist] = weakref.WeakSet()


def _fixed(*artists: Artist) -> None:
    _FIXED.update(artists)


@dataclass
class _ScorecardFrame:
    """The artists of a scorecard figure that every scorecard rewrites (``set_text``,
    ``set_verts``, ``set_data``): making a text costs more than drawing it, and a scorecard
    writes about twenty."""

    heading: list[Text]  # the project's name, its identity line, its météo and health
    bars: list[_BarsFrame]  # costs, durations
    milestones: _MilestonesFrame
    risk_counts: list[Text]  # a cell each (``RISK_CELLS``)


_FRAMES: weakref.WeakKeyDictionary[Figure, _ScorecardFrame] = weakref.WeakKeyDictionary()


def _blank_scorecard(reuse: Figure | None) -> Figure:
    """A scorecard's figure with its four axes, empty but for what every scorecard draws the
    same: ``reuse`` (a previous scorecard's figure) emptied, which spares building the axes,
    their ticks and fixed parts again (about a quarter of the time of drawing a scorecard),
    or else a new one. Its texts to rewrite are in ``_FRAMES``."""
    if reuse is None:
        figure = new_figure(10, 7.2, layout=None)
        for rect in SCORECARD_AXES:
            ax = figure.add_axes(rect)
            # White on the white figure: not drawn (4 ms a scorecard in SVG and PDF).
            ax.patch.set_visible(False)
            # Axis labels where matplotlib would put the risk matrix's, fixed: it otherwise
            # measures every tick label at each draw to place them (even empty ones).
            ax.xaxis.set_label_coords(0.5, -0.12)
            ax.yaxis.set_label_coords(-0.1, 0.5)
            axes: list[Any] = [ax.xaxis, ax.yaxis]  # Any: a private method, replaced
            for axis in axes:
                axis._get_ticklabel_bboxes = _no_ticklabel_bboxes
        cost_ax, duration_ax, milestones_ax, risks_ax = figure.axes
        heading = [
            figure.text(0.015, 0.955, "", fontsize=15, weight="bold"),
            figure.text(0.015, 0.915, ""),
            figure.text(0.015, 0.87, "", weight="bold"),
        ]
        _fixed(*heading)
        bars = [_bars_frame(ax, SCORECARD_LABELS) for ax in (cost_ax, duration_ax)]
        # The titles of milestones and risks are the same on every scorecard: set once.
        title: dict[str, Any] = {"fontsize": 10, "loc": "left", "y": 1}
        milestones = _milestones_frame(milestones_ax)
        milestones_ax.set_title("Jalons : référence, prévision, réalisé", **title)
        risk_counts = _risk_matrix_frame(risks_ax)
        risks_ax.set_title("Risques ouverts : probabilité × impact", **title)
        _FRAMES[figure] = _ScorecardFrame(heading, bars, milestones, risk_counts)
        return figure
    for text in list(reuse.texts):
        if text not in _FIXED:
            text.remove()
    for ax in reuse.axes:
        for artist in [*ax.patches, *ax.collections, *ax.texts, *ax.lines]:
            if artist not in _FIXED:
                artist.remove()
        ax.containers.clear()
        if ax.legend_ is not None:
            ax.legend_.remove()
        ax.ignore_existing_data_limits = True  # the next data sets the limits afresh
        ax.set_axis_on()
    return reuse


def scorecard(row: ProjectView, reuse: Figure | None = None) -> Chart:
    """One project's scorecard: identity, phase, cost and duration against the initial and
    latest baseline, milestones, risks, declared météo beside the computed health.

    ``reuse``: the figure of a scorecard already written, redrawn for this one (it is then
    this chart's figure), when drawing many in a row."""
    chart = scorecard_text(row)
    v = row.get
    facts = _scorecard_facts(row)
    health, costs, durations = facts["health"], facts["costs"], facts["durations"]
    phase, health_text = facts["phase"], facts["health_text"]
    colours = [GREY, OKABE_ITO["sky"], HEALTH_COLOURS.get(health, OKABE_ITO["blue"])]
    with rc_settings(RC):
        fig = _blank_scorecard(reuse)
        frame = _FRAMES[fig]
        cost_ax, duration_ax, milestones_ax, risks_ax = fig.axes
        line = f"Météo déclarée : {facts['weather_text']}   ·   santé calculée : {health_text}"
        if v("weather_rosier"):
            line += "   ·   la météo déclarée est plus favorable que la santé calculée"
        heading = [
            _short(f"{row.name} ({row.ministry})", 80),
            f"{row.pilot_id} · phase : {phase} · début : {facts['start_text']}",
            line,
        ]
        for text, string in zip(frame.heading, heading, strict=True):
            text.set_text(string)
        for ax, bars in zip((cost_ax, duration_ax), frame.bars, strict=True):
            for artist in [*ax.texts, bars.bars]:  # no bars, nor their labels
                artist.set_visible(not row.confidential)
        if row.confidential:
            for ax, bars in zip((cost_ax, duration_ax), frame.bars, strict=True):
                bars.title.set_text("")  # no drift to tell
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
                frame.bars[0],
                f"Coût (M€) · dérive {percent(row.decimal('budget_drift_initial'))}"
                " depuis l'initiale",
                costs,
                "M€",
                1,
                colours,
            )
            _bars(
                frame.bars[1],
                f"Durée (années) · dérive {percent(row.decimal('schedule_drift_initial'))}"
                " depuis l'initiale",
                [None if d is None else float(d) for d in durations],
                "ans",
                1,
                colours,
            )
        _milestones(milestones_ax, frame.milestones, v("milestones") or [])
        _risk_matrix(risks_ax, frame.risk_counts, v("risks") or [])
    chart.figure = fig
    chart.core_fonts = fits_core_fonts(row.data, row.values)
    return chart
