"""PILOT: the steering system for the French State's portfolio of major IT projects."""

from sqlmodel import SQLModel

__version__ = "0.1.0"

# Constraint and index names follow one convention. It must be set before any table
# class is defined, and every table module is inside this package: here is the one
# place that is always imported first.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
