import { readFileSync } from 'node:fs';

/**
 * The provisioned Grafana dashboard (grafana/dashboards/fleet.json), as Grafana reads it: for
 * the provisioning check (test/unit/grafana-provisioning.test.ts) and the run of every panel's
 * query against the database (test/grafana-dashboard.test.ts).
 */

export const repositoryRoot = new URL('../../', import.meta.url);

export interface Target {
  refId: string;
  rawSql?: string;
  rawQuery?: boolean;
  editorMode?: string;
  format?: string;
  datasource?: { type?: string; uid?: string };
}
export interface Panel {
  title: string;
  type: string;
  interval?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
export interface Variable {
  name: string;
  type: string;
  query: string | { rawSql?: string };
  multi?: boolean;
  includeAll?: boolean;
  datasource?: { type?: string; uid?: string };
}
export interface Dashboard {
  uid: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

// Read synchronously: ava wants every test and hook declared in the file's first turn (the test
// helpers declare a hook on import, so an await before the declarations below would be too late).
export const dashboard = JSON.parse(
  readFileSync(new URL('grafana/dashboards/fleet.json', repositoryRoot), 'utf8'),
) as Dashboard;
/** Panels, rows flattened. */
export const panels = dashboard.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
export const panelByTitle = new Map(panels.map((p) => [p.title, p]));

/** The panel's one query (its raw SQL is there: the provisioning test checks every panel). */
export function targetOf(title: string): Target & { rawSql: string } {
  const panel = panelByTitle.get(title);
  if (!panel) throw new Error(`no panel titled "${title}" in fleet.json`);
  const [target] = panel.targets ?? [];
  if (!target?.rawSql) throw new Error(`panel "${title}" has no raw SQL target`);
  return { ...target, rawSql: target.rawSql };
}

export function variableQuery(variable: Variable): string {
  const query = typeof variable.query === 'string' ? variable.query : variable.query.rawSql;
  if (!query) throw new Error(`variable ${variable.name} has no SQL`);
  return query;
}
