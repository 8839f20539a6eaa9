"""Projects: types, the filtered and paginated list, the project sheet, mutations."""
