"""The web layer: FastAPI app, dependencies, GraphQL schema. Thin: calls services."""
