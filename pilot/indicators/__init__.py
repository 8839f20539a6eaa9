"""The panorama's indicators, as pure functions of plain values (no database, no I/O)."""
