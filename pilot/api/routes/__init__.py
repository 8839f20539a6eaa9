"""Plain HTTP routes (beside GraphQL)."""
