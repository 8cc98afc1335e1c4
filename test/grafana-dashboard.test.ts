import { readFile } from 'node:fs/promises';

import test, { type ExecutionContext } from 'ava';
import { sql } from 'kysely';

import {
  meterReading,
  minutesAgo,
  startTestService,
  vehicleReading,
  type TestService,
} from './helpers/test-service.js';

/**
 * Grafana cannot run here, so this runs every SQL query of the provisioned dashboard
 * (grafana/dashboards/fleet.json) against a real embedded TimescaleDB, with the template
 * variables and macros substituted the way Grafana does it (see `interpolate`), and checks
 * the columns and values each panel gets.
 */

const HOUR = 3_600_000;
const root = new URL('../', import.meta.url);
const text = (path: string) => readFile(new URL(path, root), 'utf8');

// ---------------------------------------------------------------------------------------
// Grafana's substitution, mirrored from the PostgreSQL data source (Grafana 11/12):
// 1. the frontend replaces template variables ($name, ${name}, [[name]]); a multi-value or
//    include-All variable becomes a comma-separated list of quoted literals, "All" (without
//    a custom all value) the list of every option;
// 2. the backend replaces $__interval_ms, $__interval, $__unixEpochFrom(), $__unixEpochTo();
// 3. the macro engine (pkg/tsdb/grafana-postgresql-datasource/macros.go) replaces every
//    `$name(args)`, args up to the first ")", split on ","; an unknown macro is an error.
// Anything left that looks like a variable or macro makes the test fail.
// ---------------------------------------------------------------------------------------

interface QueryContext {
  from: Date;
  to: Date;
  /** Grafana's $__interval for the panel, e.g. '1h' (at least the panel's min interval). */
  interval: string;
  /** Selected values of each template variable (all options for "All"). */
  variables: Record<string, string[]>;
}

/** Go's time.RFC3339Nano in UTC: trailing zeros of the fraction dropped. */
const rfc3339 = (at: Date) => at.toISOString().replace(/\.?0+Z$/, 'Z');

/** gtime.ParseInterval for the units a dashboard uses. */
function intervalSeconds(raw: string): number {
  const match = /^(\d+)(ms|s|m|h|d|w)$/.exec(raw.trim().replace(/^'|'$/g, ''));
  if (!match) throw new Error(`error parsing interval ${raw}`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[
    match[2] as 'ms' | 's' | 'm' | 'h' | 'd' | 'w'
  ];
  return Number(match[1]) * unit;
}

const quoteLiteral = (value: string) => `'${value.replace(/'/g, "''")}'`;

function interpolate(rawSql: string, ctx: QueryContext): string {
  // 1. Template variables (templateSrv's regex); unknown names stay for the final check.
  let query = rawSql.replace(
    /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?::([^}]+))?\}/g,
    (whole, plain?: string, bracket?: string, bracketFormat?: string, braced?: string, bracedFormat?: string) => {
      const name = plain ?? bracket ?? braced ?? '';
      const values = ctx.variables[name];
      if (!values) return whole;
      if (bracketFormat ?? bracedFormat) throw new Error(`variable format not supported by this test: ${whole}`);
      return values.map(quoteLiteral).join(',');
    },
  );

  // 2. Global substitutions of the SQL engine.
  const seconds = intervalSeconds(ctx.interval);
  query = query
    .replaceAll('$__interval_ms', String(Math.round(seconds * 1000)))
    .replaceAll('$__interval', ctx.interval)
    .replaceAll('$__unixEpochFrom()', String(Math.floor(ctx.from.getTime() / 1000)))
    .replaceAll('$__unixEpochTo()', String(Math.floor(ctx.to.getTime() / 1000)));

  // 3. The PostgreSQL macro engine, TimescaleDB mode on (jsonData.timescaledb: true).
  const from = rfc3339(ctx.from);
  const to = rfc3339(ctx.to);
  const source = query;
  query = query.replace(/\$([_a-zA-Z0-9]+)\(([^)]*)\)/g, (whole: string, macro: string, argText: string) => {
    const args = argText.split(',').map((arg) => arg.trim());
    const column = () => {
      if (!args[0]) throw new Error(`missing time column argument for macro ${macro} in ${whole}`);
      return args[0];
    };
    const timeGroup = () => {
      if (args.length < 2) throw new Error(`macro ${macro} needs time column and interval: ${whole}`);
      if (args.length > 2) throw new Error(`fill modes are not used by this dashboard: ${whole}`);
      return `time_bucket('${intervalSeconds(args[1]!).toFixed(3)}s',${column()})`;
    };
    switch (macro) {
      case '__time':
        return `${column()} AS "time"`;
      case '__timeEpoch':
        return `extract(epoch from ${column()}) as "time"`;
      case '__timeFilter':
        return `${column()} BETWEEN '${from}' AND '${to}'`;
      case '__timeFrom':
        return `'${from}'`;
      case '__timeTo':
        return `'${to}'`;
      case '__timeGroup': {
        // Grafana < 5.3 compatibility: directly followed by "," it adds AS "time".
        const after = source[source.indexOf(whole) + whole.length];
        return after === ',' ? `${timeGroup()} AS "time"` : timeGroup();
      }
      case '__timeGroupAlias':
        return `${timeGroup()} AS "time"`;
      case '__unixEpochFilter':
        return `${column()} >= ${Math.floor(ctx.from.getTime() / 1000)} AND ${column()} <= ${Math.floor(ctx.to.getTime() / 1000)}`;
      default:
        throw new Error(`unknown macro "${macro}" in ${whole}`);
    }
  });

  const left = query.match(/\$\{?\w+|\[\[\w+/g);
  if (left) throw new Error(`not substituted: ${[...new Set(left)].join(', ')}\n${query}`);
  return query;
}

// ---------------------------------------------------------------------------------------
// The dashboard, as Grafana reads it.
// ---------------------------------------------------------------------------------------

interface Target {
  refId: string;
  rawSql?: string;
  rawQuery?: boolean;
  editorMode?: string;
  format?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  title: string;
  type: string;
  interval?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query: string | { rawSql?: string };
  multi?: boolean;
  includeAll?: boolean;
  datasource?: { type?: string; uid?: string };
}
interface Dashboard {
  uid: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboard = JSON.parse(await text('grafana/dashboards/fleet.json')) as Dashboard;
/** Panels, rows flattened. */
const panels = dashboard.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
const panelByTitle = new Map(panels.map((p) => [p.title, p]));

function targetOf(title: string): Target {
  const panel = panelByTitle.get(title);
  if (!panel) throw new Error(`no panel titled "${title}" in fleet.json`);
  const [target] = panel.targets ?? [];
  if (!target?.rawSql) throw new Error(`panel "${title}" has no raw SQL target`);
  return target;
}

function variableQuery(variable: Variable): string {
  const query = typeof variable.query === 'string' ? variable.query : variable.query.rawSql;
  if (!query) throw new Error(`variable ${variable.name} has no SQL`);
  return query;
}

// ---------------------------------------------------------------------------------------
// Seed: three mapped vehicles over the last 4 hours (one charging at 0.75) and one
// unmapped vehicle that no panel may show.
// ---------------------------------------------------------------------------------------

interface Seeded {
  vehicleId: string;
  meterId: string | undefined;
  ac: number;
  dc: number;
  temp: (minute: number) => number;
}
const fleet: Seeded[] = [
  { vehicleId: 'gf-ev-a', meterId: 'gf-meter-a', ac: 1.0, dc: 0.92, temp: () => 30 },
  { vehicleId: 'gf-ev-b', meterId: 'gf-meter-b', ac: 1.2, dc: 1.08, temp: () => 35 },
  { vehicleId: 'gf-ev-low', meterId: 'gf-meter-low', ac: 1.0, dc: 0.75, temp: (m) => (m === 60 ? 47 : 42) },
  { vehicleId: 'gf-unmapped', meterId: undefined, ac: 0, dc: 5, temp: () => 80 },
];
const mapped = fleet.filter((v) => v.meterId !== undefined);
const MINUTES = Array.from({ length: 48 }, (_, i) => 5 + i * 5); // 5, 10, ... 240 minutes ago
const N = MINUTES.length;
const soc = (minute: number) => 90 - minute / 4;
const seededAt = Date.now();

let svc: TestService;
test.before(async () => {
  svc = await startTestService();
  for (const v of fleet) {
    if (v.meterId) {
      const put = await svc.put(`/v1/vehicles/${v.vehicleId}/meter`, { meterId: v.meterId });
      if (put.status !== 200) throw new Error(`mapping ${v.vehicleId}: ${put.status}`);
      const meter = await svc.post(
        '/v1/ingestion/meter',
        MINUTES.map((m) => meterReading(v.meterId!, minutesAgo(m, seededAt), v.ac, 230)),
      );
      if (meter.status !== 202) throw new Error(`meter readings: ${meter.status} ${JSON.stringify(meter.body)}`);
    }
    const vehicle = await svc.post(
      '/v1/ingestion/vehicle',
      MINUTES.map((m) => vehicleReading(v.vehicleId, minutesAgo(m, seededAt), v.dc, soc(m), v.temp(m))),
    );
    if (vehicle.status !== 202) throw new Error(`vehicle readings: ${vehicle.status} ${JSON.stringify(vehicle.body)}`);
  }
});
test.after.always(async () => {
  await svc?.stop();
});

type Row = Record<string, unknown>;

async function run(rawSql: string, ctx: QueryContext): Promise<Row[]> {
  const query = interpolate(rawSql, ctx);
  try {
    return (await sql.raw<Row>(query).execute(svc.dbHandle.db)).rows;
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- query ---\n${query}`, { cause: error });
  }
}

async function allVehicles(): Promise<string[]> {
  const variable = dashboard.templating.list.find((v) => v.name === 'vehicle')!;
  const rows = await run(variableQuery(variable), {
    from: new Date(Date.now() - 6 * HOUR),
    to: new Date(),
    interval: '1h',
    variables: {},
  });
  return rows.map((row) => String(Object.values(row)[0]));
}

const lastHours = (hours: number, vehicles: string[], interval = '1h'): QueryContext => ({
  from: new Date(Date.now() - hours * HOUR),
  to: new Date(),
  interval,
  variables: { vehicle: vehicles },
});

const num = (value: unknown) => {
  if (typeof value !== 'number') throw new Error(`expected a number, got ${typeof value} ${String(value)}`);
  return value;
};
const close = (t: ExecutionContext, actual: unknown, expected: number, what: string) =>
  t.true(Math.abs(num(actual) - expected) < 1e-9, `${what}: ${String(actual)}, expected ${expected}`);
const sum = (rows: Row[], column: string) => rows.reduce((total, row) => total + num(row[column]), 0);

// ---------------------------------------------------------------------------------------
// Expected columns and values of each panel, by title.
// ---------------------------------------------------------------------------------------

interface PanelSpec {
  columns: string[];
  /** Follows the dashboard's time range (false: the live tables). */
  timeBound: boolean;
  /** Values with "All" vehicles over the last 6 hours. */
  check(t: ExecutionContext, rows: Row[]): void;
}

const totalAc = mapped.reduce((total, v) => total + N * v.ac, 0);
const totalDc = mapped.reduce((total, v) => total + N * v.dc, 0);

const specs: Record<string, PanelSpec> = {
  'Vehicles below 0.85': {
    columns: ['Vehicles below 0.85'],
    timeBound: true,
    check(t, rows) {
      t.is(rows.length, 1);
      t.is(rows[0]!['Vehicles below 0.85'], 1, 'only gf-ev-low is below 0.85');
    },
  },
  'Energy per hour: AC drawn vs DC delivered': {
    columns: ['time', 'AC drawn (kWh)', 'DC delivered (kWh)'],
    timeBound: true,
    check(t, rows) {
      t.true(rows.length >= 4, `4 hours of readings span at least 4 hourly buckets, got ${rows.length}`);
      close(t, sum(rows, 'AC drawn (kWh)'), totalAc, 'AC of the mapped vehicles');
      close(t, sum(rows, 'DC delivered (kWh)'), totalDc, 'DC of the mapped vehicles (not the unmapped one)');
    },
  },
  'Fleet efficiency (DC / AC)': {
    columns: ['time', 'Efficiency (DC/AC)'],
    timeBound: true,
    check(t, rows) {
      // Every vehicle reads every 5 minutes, so each hour has the fleet's ratio.
      for (const row of rows)
        close(t, row['Efficiency (DC/AC)'], totalDc / totalAc, `efficiency at ${String(row.time)}`);
    },
  },
  'Efficiency per vehicle (lowest first)': {
    columns: ['Vehicle', 'Meter', 'AC drawn (kWh)', 'DC delivered (kWh)', 'Efficiency', 'Status'],
    timeBound: true,
    check(t, rows) {
      t.deepEqual(
        rows.map((r) => [r.Vehicle, r.Meter, r.Status]),
        [
          ['gf-ev-low', 'gf-meter-low', 'low'],
          ['gf-ev-b', 'gf-meter-b', 'normal'],
          ['gf-ev-a', 'gf-meter-a', 'normal'],
        ],
      );
      for (const row of rows) {
        const v = mapped.find((m) => m.vehicleId === row.Vehicle)!;
        close(t, row['AC drawn (kWh)'], N * v.ac, `${v.vehicleId} AC`);
        close(t, row['DC delivered (kWh)'], N * v.dc, `${v.vehicleId} DC`);
        close(t, row.Efficiency, v.dc / v.ac, `${v.vehicleId} efficiency`);
      }
      t.true(num(rows[0]!.Efficiency) < 0.85);
    },
  },
  'Battery temperature': {
    columns: ['time', 'Average (°C)', 'Max (°C)'],
    timeBound: true,
    check(t, rows) {
      for (const row of rows) {
        const average = num(row['Average (°C)']);
        t.true(average > 30 && average < 47, `fleet average ${average} lies between the vehicles' temperatures`);
      }
      t.is(Math.max(...rows.map((r) => num(r['Max (°C)']))), 47, 'the one hot reading shows up');
      // All buckets but the one holding the 47 °C reading: mean of 30, 35 and 42.
      const plain = rows.filter((r) => r['Max (°C)'] === 42);
      t.true(plain.length >= 3);
      for (const row of plain) close(t, row['Average (°C)'], (30 + 35 + 42) / 3, 'average of the three vehicles');
    },
  },
  'Hottest batteries (max over the range)': {
    columns: ['Vehicle', 'Max (°C)'],
    timeBound: true,
    check(t, rows) {
      t.deepEqual(
        rows.map((r) => [r.Vehicle, r['Max (°C)']]),
        [
          ['gf-ev-low', 47],
          ['gf-ev-b', 35],
          ['gf-ev-a', 30],
        ],
      );
    },
  },
  'Live state': {
    columns: ['Vehicle', 'SOC (%)', 'Battery (°C)', 'Vehicle reading', 'Meter', 'Voltage (V)', 'Meter reading'],
    timeBound: false,
    check(t, rows) {
      const newest = minutesAgo(MINUTES[0]!, seededAt).getTime();
      t.deepEqual(
        rows.map((r) => [r.Vehicle, r['SOC (%)'], r['Battery (°C)'], r.Meter, r['Voltage (V)']]),
        mapped.map((v) => [v.vehicleId, soc(MINUTES[0]!), v.temp(MINUTES[0]!), v.meterId, 230]),
      );
      for (const row of rows) {
        t.is((row['Vehicle reading'] as Date).getTime(), newest);
        t.is((row['Meter reading'] as Date).getTime(), newest);
      }
    },
  },
};

/** What Grafana needs of a result: names; a time series needs "time" ascending and numbers. */
function checkShape(t: ExecutionContext, title: string, rows: Row[], interval: string) {
  const { format } = targetOf(title);
  const spec = specs[title]!;
  t.true(rows.length >= 1, `${title}: no rows`);
  for (const row of rows) t.deepEqual(Object.keys(row), spec.columns, `${title}: columns`);
  if (format !== 'time_series') return;
  const step = intervalSeconds(interval) * 1000;
  let previous = -Infinity;
  for (const row of rows) {
    t.true(row.time instanceof Date, `${title}: time is a timestamp`);
    const at = (row.time as Date).getTime();
    t.true(at > previous, `${title}: sorted by time`);
    t.is(at % step, 0, `${title}: buckets aligned to ${interval}`);
    previous = at;
    for (const column of spec.columns.slice(1)) {
      t.true(row[column] === null || typeof row[column] === 'number', `${title}: ${column} is numeric`);
    }
  }
}

// ---------------------------------------------------------------------------------------

test('the dashboard is provisioned against the compose database and every panel is raw SQL', async (t) => {
  const [datasource, providers, compose] = await Promise.all([
    text('grafana/provisioning/datasources/timescaledb.yaml'),
    text('grafana/provisioning/dashboards/dashboards.yaml'),
    text('docker-compose.yml'),
  ]);
  const field = (yaml: string, key: string) => new RegExp(`^\\s*${key}:\\s*(\\S+)\\s*$`, 'm').exec(yaml)?.[1];
  const uid = field(datasource, 'uid');
  t.is(uid, 'timescaledb');
  t.is(field(datasource, 'type'), 'grafana-postgresql-datasource');
  t.is(field(datasource, 'timescaledb'), 'true', '$__timeGroup becomes time_bucket');
  t.is(field(datasource, 'url'), 'timescaledb:5432');
  t.regex(compose, /^ {2}timescaledb:\n/m, 'the data source host is the compose service');
  t.is(field(datasource, 'user'), field(compose, 'POSTGRES_USER'));
  t.is(field(datasource, 'password'), field(compose, 'POSTGRES_PASSWORD'));
  t.is(field(datasource, 'database'), field(compose, 'POSTGRES_DB'));
  t.is(field(providers, 'path'), '/var/lib/grafana/dashboards');
  t.regex(compose, /- \.\/grafana\/dashboards:\/var\/lib\/grafana\/dashboards:ro/);
  t.regex(compose, /- \.\/grafana\/provisioning:\/etc\/grafana\/provisioning/);

  t.is(dashboard.uid, 'ev-fleet');
  t.true(dashboard.schemaVersion >= 39);
  t.deepEqual(
    [...panelByTitle.keys()].sort(),
    Object.keys(specs).sort(),
    'every panel has expected columns in this test',
  );
  t.is(panelByTitle.size, panels.length, 'panel titles are unique');
  for (const panel of panels) {
    t.is(panel.targets?.length, 1, `${panel.title}: one query`);
    const target = targetOf(panel.title);
    t.is(target.datasource?.uid, uid, `${panel.title}: target data source`);
    t.is(panel.datasource?.uid, uid, `${panel.title}: panel data source`);
    t.true(target.rawQuery, `${panel.title}: rawQuery`);
    t.is(target.editorMode, 'code', `${panel.title}: code editor`);
    t.true(target.format === 'time_series' || target.format === 'table', `${panel.title}: format`);
    t.regex(target.rawSql!, /IN \(\$vehicle\)/, `${panel.title}: filtered by $vehicle`);
  }
  const variable = dashboard.templating.list.find((v) => v.name === 'vehicle');
  t.like(variable, { type: 'query', multi: true, includeAll: true, datasource: { uid } });
});

test('the vehicle variable lists the mapped vehicles', async (t) => {
  t.deepEqual(await allVehicles(), ['gf-ev-a', 'gf-ev-b', 'gf-ev-low']);
});

test('every panel query runs with all vehicles over the last 6 hours: expected columns and values', async (t) => {
  const ctx = lastHours(6, await allVehicles());
  for (const title of Object.keys(specs)) {
    const rows = await run(targetOf(title).rawSql!, ctx);
    checkShape(t, title, rows, ctx.interval);
    specs[title]!.check(t, rows);
  }
});

test('one vehicle selected: the panels show only that vehicle', async (t) => {
  const ctx = lastHours(6, ['gf-ev-a']);
  const rowsOf = (title: string) => run(targetOf(title).rawSql!, ctx);
  t.is((await rowsOf('Vehicles below 0.85'))[0]!['Vehicles below 0.85'], 0);
  const energy = await rowsOf('Energy per hour: AC drawn vs DC delivered');
  close(t, sum(energy, 'AC drawn (kWh)'), N * 1.0, 'AC of gf-ev-a');
  close(t, sum(energy, 'DC delivered (kWh)'), N * 0.92, 'DC of gf-ev-a');
  for (const row of await rowsOf('Fleet efficiency (DC / AC)'))
    close(t, row['Efficiency (DC/AC)'], 0.92, 'efficiency of gf-ev-a');
  t.deepEqual(
    (await rowsOf('Efficiency per vehicle (lowest first)')).map((r) => r.Vehicle),
    ['gf-ev-a'],
  );
  for (const row of await rowsOf('Battery temperature')) t.is(row['Average (°C)'], 30);
  t.deepEqual(
    (await rowsOf('Hottest batteries (max over the range)')).map((r) => r.Vehicle),
    ['gf-ev-a'],
  );
  t.deepEqual(
    (await rowsOf('Live state')).map((r) => r.Vehicle),
    ['gf-ev-a'],
  );
});

test('a window without readings: time-bound panels are empty, the live table is not', async (t) => {
  const ctx: QueryContext = {
    from: new Date(seededAt - 72 * HOUR),
    to: new Date(seededAt - 48 * HOUR),
    interval: '1h',
    variables: { vehicle: await allVehicles() },
  };
  for (const [title, spec] of Object.entries(specs)) {
    const rows = await run(targetOf(title).rawSql!, ctx);
    if (!spec.timeBound) t.is(rows.length, mapped.length, `${title}: not bound to the time range`);
    else if (title === 'Vehicles below 0.85') t.deepEqual(rows, [{ 'Vehicles below 0.85': 0 }]);
    else t.is(rows.length, 0, `${title}: follows the time range`);
  }
});

test('a coarser $__interval (long ranges) regroups the hours without losing energy', async (t) => {
  const ctx = lastHours(6, await allVehicles(), '1d');
  const title = 'Energy per hour: AC drawn vs DC delivered';
  const rows = await run(targetOf(title).rawSql!, ctx);
  checkShape(t, title, rows, '1d');
  t.true(rows.length <= 2, 'six hours fall in at most two days');
  close(t, sum(rows, 'AC drawn (kWh)'), totalAc, 'AC');
  close(t, sum(rows, 'DC delivered (kWh)'), totalDc, 'DC');
});

test('the substitution is as strict as Grafana: unknown macros and variables fail', (t) => {
  const ctx: QueryContext = {
    from: new Date('2026-01-01T00:00:00Z'),
    to: new Date('2026-01-01T06:00:00.5Z'),
    interval: '1h',
    variables: { v: ["a'1", 'b'] },
  };
  t.is(
    interpolate(
      'SELECT $__timeGroupAlias(ts, $__interval), x FROM t WHERE $__timeFilter(ts) AND id IN ($v) AND ${v} = [[v]]',
      ctx,
    ),
    `SELECT time_bucket('3600.000s',ts) AS "time", x FROM t WHERE ts BETWEEN '2026-01-01T00:00:00Z' AND '2026-01-01T06:00:00.5Z' AND id IN ('a''1','b') AND 'a''1','b' = 'a''1','b'`,
  );
  t.is(interpolate('SELECT $__timeGroup(ts, 5m), 1', ctx), `SELECT time_bucket('300.000s',ts) AS "time", 1`);
  t.is(
    interpolate('WHERE ts > $__timeFrom() AND ts < $__timeTo()', ctx),
    `WHERE ts > '2026-01-01T00:00:00Z' AND ts < '2026-01-01T06:00:00.5Z'`,
  );
  t.throws(() => interpolate('SELECT $__timeFilterr(ts)', ctx), { message: /unknown macro/ });
  t.throws(() => interpolate('SELECT 1 WHERE id IN ($vehicle)', ctx), { message: /not substituted: \$vehicle/ });
  t.throws(
    () => interpolate('SELECT $__timeGroupAlias(coalesce(a, b), 1h)', ctx),
    { message: /interval/ },
    'Grafana cuts arguments at the first ")"',
  );
  t.throws(() => interpolate('SELECT $__timeFilter()', ctx), { message: /missing time column/ });
});
