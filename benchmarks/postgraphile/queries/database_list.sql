-- pilot_list.graphql's answer built as JSON by PostgreSQL alone, in one statement (the
-- same rows and fields; PILOT's exact formats aside): what a server compiling GraphQL to
-- SQL would still wait for. %(first)s: the page size.
SELECT json_build_object('data', json_build_object('projects', json_build_object(
  'pageInfo', json_build_object(
    'hasNextPage', (SELECT count(*) FROM project) > %(first)s,
    'endCursor', max(p.id)::text),
  'nodes', coalesce(json_agg(json_build_object(
    'id', 'PRJ-' || lpad(p.id::text, 5, '0'),
    'name', p.name,
    'ministry', json_build_object('code', m.code),
    'phase', p.phase,
    'currentCostEur', (
      SELECT r.current_cost_eur FROM report r WHERE r.project_id = p.id
      ORDER BY r.reported_on DESC, r.id DESC LIMIT 1),
    'milestones', (
      SELECT coalesce(json_agg(json_build_object(
        'name', x.name, 'baselineDate', x.baseline_date,
        'forecastDate', x.forecast_date, 'actualDate', x.actual_date
      ) ORDER BY x.baseline_date, x.id), '[]')
      FROM milestone x WHERE x.project_id = p.id),
    'risks', (
      SELECT coalesce(json_agg(json_build_object(
        'title', k.title, 'probability', k.probability, 'impact', k.impact
      ) ORDER BY k.probability * k.impact DESC, k.id), '[]')
      FROM risk k WHERE k.project_id = p.id)
  ) ORDER BY p.id), '[]'))))::text
FROM (SELECT * FROM project ORDER BY id LIMIT %(first)s) p
JOIN ministry m ON m.id = p.ministry_id
