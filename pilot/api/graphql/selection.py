"""What a request selects under a field (Strawberry's ``info.selected_fields``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection


def selected(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    """The fields of a selection set, fragments spread."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        elif isinstance(selection, FragmentSpread | InlineFragment):
            yield from selected(selection.selections)
