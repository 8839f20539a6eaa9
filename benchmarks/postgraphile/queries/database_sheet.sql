-- pilot_sheet.graphql's answer built as JSON by PostgreSQL alone, in one statement (the
-- same rows and fields; PILOT's exact formats aside): what a server compiling GraphQL to
-- SQL would still wait for. %(id)s: the project's row id.
SELECT json_build_object('data', json_build_object('project', json_build_object(
  'id', 'PRJ-' || lpad(p.id::text, 5, '0'),
  'name', p.name,
  'description', p.description,
  'ministry', json_build_object('code', m.code, 'name', m.name),
  'phase', p.phase,
  'interministerial', p.interministerial,
  'functionalZone', p.functional_zone_label,
  'startDate', p.start_date,
  'inPanorama', p.in_panorama,
  'confidential', p.confidential,
  'currentCostEur', (
    SELECT r.current_cost_eur FROM report r WHERE r.project_id = p.id
    ORDER BY r.reported_on DESC, r.id DESC LIMIT 1),
  'baselines', (
    SELECT coalesce(json_agg(json_build_object(
      'kind', b.kind, 'approvedOn', b.approved_on, 'costEur', b.cost_eur,
      'startDate', b.start_date, 'endDate', b.end_date, 'reason', b.reason, 'source', b.source
    ) ORDER BY b.approved_on, b.id), '[]')
    FROM baseline b WHERE b.project_id = p.id),
  'reports', (
    SELECT coalesce(json_agg(json_build_object(
      'reportedOn', r.reported_on, 'phase', r.phase, 'currentCostEur', r.current_cost_eur,
      'forecastEnd', r.forecast_end, 'weather', r.weather, 'comment', r.comment
    ) ORDER BY r.reported_on, r.id), '[]')
    FROM report r WHERE r.project_id = p.id),
  'milestones', (
    SELECT coalesce(json_agg(json_build_object(
      'id', x.id, 'name', x.name, 'baselineDate', x.baseline_date,
      'forecastDate', x.forecast_date, 'actualDate', x.actual_date
    ) ORDER BY x.baseline_date, x.id), '[]')
    FROM milestone x WHERE x.project_id = p.id),
  'risks', (
    SELECT coalesce(json_agg(json_build_object(
      'id', k.id, 'title', k.title, 'probability', k.probability, 'impact', k.impact,
      'mitigation', k.mitigation, 'status', k.status
    ) ORDER BY k.probability * k.impact DESC, k.id), '[]')
    FROM risk k WHERE k.project_id = p.id),
  'budgetLines', (
    SELECT coalesce(json_agg(json_build_object(
      'year', l.year, 'kind', l.kind, 'plannedEur', l.planned_eur,
      'consumedEur', l.consumed_eur
    ) ORDER BY l.year, l.kind), '[]')
    FROM budget_line l WHERE l.project_id = p.id),
  'auditTrail', (
    SELECT coalesce(json_agg(json_build_object(
      'at', a.at, 'actor', a.actor, 'action', a.action, 'entity', a.entity,
      'field', a.field, 'oldValue', a.old_value, 'newValue', a.new_value
    ) ORDER BY a.at DESC, a.id DESC), '[]')
    FROM (SELECT * FROM audit_event e WHERE e.project_id = p.id
          ORDER BY e.at DESC, e.id DESC LIMIT 50) a)
)))::text
FROM project p JOIN ministry m ON m.id = p.ministry_id
WHERE p.id = %(id)s
