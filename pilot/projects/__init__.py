"""Projects and what hangs off them: names, baselines, reports, milestones, risks, budget."""
