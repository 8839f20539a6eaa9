"""The Strawberry schema. The checked-in contract is ``graphql/schema.graphql`` at the
repository root (exported by ``pilot graphql-schema``); this package is its source."""
