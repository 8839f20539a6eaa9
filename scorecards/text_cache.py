"""Text work that matplotlib 3.11 does again at every draw, kept for the next ones: the
same pixels and the same files, in less time. Scorecards, drawn by the thousand, repeat the
same strings (titles, tick labels, axis labels) at the same places.

PNG (Agg): matplotlib lays out every string again at each draw (about half a millisecond
a string) and renders its glyphs one by one through FreeType, in Python (about 0.1 ms a
glyph): half the time of writing a scorecard's PNG went into its text. Here

- a string's layout is kept, per font, size, resolution, hinting, features and language;
- a glyph's bitmap is kept, per font, size, resolution, glyph, hinting, rotation and
  position within its pixel (FreeType renders a glyph moved by whole pixels into the same
  bitmap, moved by as many pixels).

SVG: its renderer measures each string with FreeType (to align it), and matplotlib keeps
these measures only as long as the renderer, which lives for one file: here they are kept
per string, font files and size.

Every format: a text measures its lines and its font's line height again at each draw
(``Text._get_layout``): its layout, relative to its anchor, is kept per renderer type,
resolution, string, font, alignment, rotation and the rcParams that choose its font.

``install()`` replaces ``RendererAgg.draw_text``, ``RendererAgg._draw_text_glyphs_and_boxes``,
``TextToPath.get_text_width_height_descent`` and ``Text._get_layout`` (only with the
matplotlib they were written for); anything else (mathtext, TeX, wrapped text,
non-antialiased text) goes to matplotlib's own code. The tests compare the files written
both ways.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
from matplotlib.backends.backend_mixed import MixedModeRenderer
from matplotlib.font_manager import fontManager
from matplotlib.ft2font import FT2Font, RenderMode
from matplotlib.text import Text
from matplotlib.textpath import TextToPath

MAX_GLYPHS = 50_000  # bitmaps kept (a few hundred bytes each); forgotten all at once beyond
MAX_LAYOUTS = 20_000  # strings' layouts kept, and strings' measures

_ORIGINAL: dict[str, Any] = {}
# (font, size, dpi, glyph, hinting, matrix, x and y within the pixel) -> bitmap, left, top
_glyphs: dict[tuple[Any, ...], tuple[np.ndarray, int, int]] = {}
# (font, size, dpi, text, hinting, features, language) -> [(font, glyph, x, y), ...]
_layouts: dict[tuple[Any, ...], list[tuple[FT2Font, int, float, float]]] = {}
# (text, font files, size, hinting and kerning factors) -> width, height, descent
_measures: dict[tuple[Any, ...], tuple[float, float, float]] = {}
# (renderer type and resolution, text, font, alignment, rotation, ...) -> Text._get_layout
_text_layouts: dict[tuple[Any, ...], tuple[Any, list[Any], Any]] = {}
# The rcParams a text's layout depends on (besides its own properties): font families,
# FreeType's hinting, PDF's standard fonts.
LAYOUT_RC = [
    "font.family",
    "font.serif",
    "font.sans-serif",
    "font.cursive",
    "font.fantasy",
    "font.monospace",
    "text.hinting",
    "text.hinting_factor",
    "text.kerning_factor",
    "pdf.use14corefonts",
    "ps.useafm",
]


def _draw_text_glyphs_and_boxes(
    self: Any, gc: Any, x: float, y: float, angle: float, glyphs: Any, boxes: Any
) -> None:
    """``RendererAgg._draw_text_glyphs_and_boxes`` with each glyph's bitmap kept: the same
    arithmetic, in the same order, so the same pixels."""
    if boxes or not gc.get_antialiased():
        _ORIGINAL["_draw_text_glyphs_and_boxes"](self, gc, x, y, angle, glyphs, boxes)
        return
    cos = math.cos(math.radians(angle))
    sin = math.sin(math.radians(angle))
    load_flags = get_hinting_flag()
    height = self.height
    dpi = self.dpi
    draw_text_image = self._renderer.draw_text_image
    rotation = 0x10000 * np.array([[cos, -sin], [sin, cos]])
    matrices: dict[tuple[float, float], tuple[np.ndarray, tuple[int, ...]]] = {}
    for font, size, glyph_index, slant, extend, dx, dy in glyphs:  # dy is upwards.
        shape = matrices.get((slant, extend))
        if shape is None:
            matrix = (rotation @ [[extend, extend * slant], [0, 1]]).round().astype(int)
            shape = matrices[slant, extend] = (matrix, tuple(matrix.ravel().tolist()))
        delta = [
            round(0x40 * (x + dx * cos - dy * sin)),
            # FreeType's y is upwards.
            round(0x40 * (height - y + dx * sin + dy * cos)),
        ]
        key = (font, size, dpi, glyph_index, load_flags, shape[1], delta[0] & 63, delta[1] & 63)
        cached = _glyphs.get(key)
        if cached is None:
            font.set_size(size, dpi)
            font._set_transform(shape[0], delta)
            bitmap = font._render_glyph(glyph_index, load_flags, RenderMode.NORMAL)
            if len(_glyphs) >= MAX_GLYPHS:
                _glyphs.clear()
            cached = _glyphs[key] = (
                np.array(bitmap.buffer),
                bitmap.left - (delta[0] >> 6),
                bitmap.top - (delta[1] >> 6),
            )
        buffer, left, top = cached
        # draw_text_image's y is downwards & the bitmap bottom side.
        draw_text_image(
            buffer,
            left + (delta[0] >> 6),
            int(height) - (top + (delta[1] >> 6)) + buffer.shape[0],
            0,
            gc,
        )


def draw_text(
    self: Any,
    gc: Any,
    x: float,
    y: float,
    s: str,
    prop: Any,
    angle: float,
    ismath: Any = False,
    mtext: Any = None,
) -> None:
    """``RendererAgg.draw_text`` with each string's layout kept."""
    if ismath:
        _ORIGINAL["draw_text"](self, gc, x, y, s, prop, angle, ismath, mtext)
        return
    font = self._prepare_font(prop)
    flags = get_hinting_flag()
    features = mtext.get_fontfeatures() if mtext is not None else None
    language = mtext.get_language() if mtext is not None else None
    size = prop.get_size_in_points()
    key = (font, size, self.dpi, s, flags, features, language)
    items = _layouts.get(key)
    if items is None:
        items = [
            (item.ft_object, item.glyph_index, item.x, item.y)
            for item in font._layout(s, flags=flags, features=features, language=language)
        ]
        if len(_layouts) >= MAX_LAYOUTS:
            _layouts.clear()
        _layouts[key] = items
    self._draw_text_glyphs_and_boxes(
        gc, x, y, angle, ((f, size, index, 0, 1, gx, gy) for f, index, gx, gy in items), []
    )


def get_text_width_height_descent(
    self: Any, s: str, prop: Any, ismath: Any
) -> tuple[float, float, float]:
    """``TextToPath.get_text_width_height_descent`` (SVG's measure of a string) kept: it
    only depends on the string, the font files, the size and two rcParams of ``get_font``."""
    if ismath:
        return _ORIGINAL["get_text_width_height_descent"](self, s, prop, ismath)
    key = (
        s,
        tuple(fontManager._find_fonts_by_props(prop)),
        prop.get_size_in_points(),
        matplotlib.rcParams["text.hinting_factor"],
        matplotlib.rcParams["text.kerning_factor"],
    )
    measure = _measures.get(key)
    if measure is None:
        if len(_measures) >= MAX_LAYOUTS:
            _measures.clear()
        measure = _measures[key] = _ORIGINAL["get_text_width_height_descent"](self, s, prop, ismath)
    return measure


_dict_get = dict.__getitem__


def _layout_key(text: Any, renderer: Any) -> tuple[Any, ...] | None:
    """What ``Text._get_layout`` depends on, or None for the texts it is not kept for
    (TeX, wrapped, mathtext or with a dollar sign): the box and lines it returns are relative
    to the text's anchor, so they do not depend on where the text is."""
    s = text._text
    if text.get_usetex() or text.get_wrap() or "$" in s:
        return None
    rc: Any = matplotlib.rcParams
    if isinstance(renderer, MixedModeRenderer):  # PDF and SVG: the one that measures
        renderer = renderer._renderer
    return (
        type(renderer),
        getattr(renderer, "dpi", None),
        text.get_figure(root=True).dpi,
        s,
        text._fontproperties,
        text._linespacing,
        text._get_multialignment(),
        text.get_rotation(),
        text._horizontalalignment,
        text._verticalalignment,
        text.get_rotation_mode(),
        # Read as a plain dict (no RcParams lookup logic), lists as tuples (hashable).
        *[tuple(v) if isinstance(v := _dict_get(rc, name), list) else v for name in LAYOUT_RC],
    )


def _get_layout(self: Any, renderer: Any) -> tuple[Any, list[Any], Any]:
    """``Text._get_layout`` kept (a sixth of the time of drawing a scorecard): a text
    measures its lines, and its font's line height, again at every draw."""
    key = _layout_key(self, renderer)
    if key is None:
        return _ORIGINAL["_get_layout"](self, renderer)
    layout = _text_layouts.get(key)
    if layout is None:
        if len(_text_layouts) >= MAX_LAYOUTS:
            _text_layouts.clear()
        layout = _ORIGINAL["_get_layout"](self, renderer)
        bbox, lines, corner = layout
        # The font properties copied: the text's own may change after.
        stored = (*key[:4], key[4].copy(), *key[5:])
        _text_layouts[stored] = layout = (bbox.frozen(), list(lines), corner)
    bbox, lines, corner = layout
    return bbox.frozen(), list(lines), corner


REPLACEMENTS: list[tuple[type, str, Any]] = [
    (RendererAgg, "draw_text", draw_text),
    (RendererAgg, "_draw_text_glyphs_and_boxes", _draw_text_glyphs_and_boxes),
    (TextToPath, "get_text_width_height_descent", get_text_width_height_descent),
    (Text, "_get_layout", _get_layout),
]


def supported() -> bool:
    """Whether this matplotlib draws text the way these replacements expect (3.11's)."""
    return (
        all(hasattr(cls, name) for cls, name, _ in REPLACEMENTS)
        and hasattr(RendererAgg, "_prepare_font")
        and hasattr(fontManager, "_find_fonts_by_props")
        and all(hasattr(FT2Font, name) for name in ("_layout", "_render_glyph", "_set_transform"))
    )


def install() -> None:
    if _ORIGINAL or not supported():
        return
    for cls, name, replacement in REPLACEMENTS:
        _ORIGINAL[name] = getattr(cls, name)
        setattr(cls, name, replacement)


def uninstall() -> None:
    """matplotlib's own text work again (for tests that compare both)."""
    for cls, name, _ in REPLACEMENTS:
        if name in _ORIGINAL:
            setattr(cls, name, _ORIGINAL.pop(name))
