import test, { type ExecutionContext } from 'ava';
import { sql } from 'kysely';

import { HOUR_MS } from '../src/time.js';
import { dashboard, panelByTitle, targetOf, variableQuery } from './helpers/grafana-dashboard.js';
import { grafanaIntervalSeconds, interpolateGrafanaSql, type GrafanaQueryContext } from './helpers/grafana-macros.js';
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
 * variables and macros substituted the way Grafana does it (see helpers/grafana-macros.ts),
 * and checks the columns and values each panel gets.
 */

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

async function run(rawSql: string, ctx: GrafanaQueryContext): Promise<Row[]> {
  const query = interpolateGrafanaSql(rawSql, ctx);
  try {
    return (await sql.raw<Row>(query).execute(svc.dbHandle.db)).rows;
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- query ---\n${query}`, { cause: error });
  }
}

async function allVehicles(): Promise<string[]> {
  const variable = dashboard.templating.list.find((v) => v.name === 'vehicle')!;
  const rows = await run(variableQuery(variable), {
    from: new Date(Date.now() - 6 * HOUR_MS),
    to: new Date(),
    interval: '1h',
    variables: {},
  });
  return rows.map((row) => String(Object.values(row)[0]));
}

const lastHours = (hours: number, vehicles: string[], interval = '1h'): GrafanaQueryContext => ({
  from: new Date(Date.now() - hours * HOUR_MS),
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
    columns: ['Vehicle', 'Meters', 'AC drawn (kWh)', 'DC delivered (kWh)', 'Efficiency', 'Status'],
    timeBound: true,
    check(t, rows) {
      t.deepEqual(
        rows.map((r) => [r.Vehicle, r.Meters, r.Status]),
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
  const step = grafanaIntervalSeconds(interval) * 1000;
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

test('every panel of the dashboard has its expected columns and values in this test', (t) => {
  t.deepEqual([...panelByTitle.keys()].sort(), Object.keys(specs).sort());
});

test('the vehicle variable lists the mapped vehicles', async (t) => {
  t.deepEqual(await allVehicles(), ['gf-ev-a', 'gf-ev-b', 'gf-ev-low']);
});

test('every panel query runs with all vehicles over the last 6 hours: expected columns and values', async (t) => {
  const ctx = lastHours(6, await allVehicles());
  for (const title of Object.keys(specs)) {
    const rows = await run(targetOf(title).rawSql, ctx);
    checkShape(t, title, rows, ctx.interval);
    specs[title]!.check(t, rows);
  }
});

test('one vehicle selected: the panels show only that vehicle', async (t) => {
  const ctx = lastHours(6, ['gf-ev-a']);
  const rowsOf = (title: string) => run(targetOf(title).rawSql, ctx);
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
  const ctx: GrafanaQueryContext = {
    from: new Date(seededAt - 72 * HOUR_MS),
    to: new Date(seededAt - 48 * HOUR_MS),
    interval: '1h',
    variables: { vehicle: await allVehicles() },
  };
  for (const [title, spec] of Object.entries(specs)) {
    const rows = await run(targetOf(title).rawSql, ctx);
    if (!spec.timeBound) t.is(rows.length, mapped.length, `${title}: not bound to the time range`);
    else if (title === 'Vehicles below 0.85') t.deepEqual(rows, [{ 'Vehicles below 0.85': 0 }]);
    else t.is(rows.length, 0, `${title}: follows the time range`);
  }
});

test('a coarser $__interval (long ranges) regroups the hours without losing energy', async (t) => {
  const ctx = lastHours(6, await allVehicles(), '1d');
  const title = 'Energy per hour: AC drawn vs DC delivered';
  const rows = await run(targetOf(title).rawSql, ctx);
  checkShape(t, title, rows, '1d');
  t.true(rows.length <= 2, 'six hours fall in at most two days');
  close(t, sum(rows, 'AC drawn (kWh)'), totalAc, 'AC');
  close(t, sum(rows, 'DC delivered (kWh)'), totalDc, 'DC');
});

test('the substitution is as strict as Grafana: unknown macros and variables fail', (t) => {
  const ctx: GrafanaQueryContext = {
    from: new Date('2026-01-01T00:00:00Z'),
    to: new Date('2026-01-01T06:00:00.5Z'),
    interval: '1h',
    variables: { v: ["a'1", 'b'] },
  };
  t.is(
    interpolateGrafanaSql(
      'SELECT $__timeGroupAlias(ts, $__interval), x FROM t WHERE $__timeFilter(ts) AND id IN ($v) AND ${v} = [[v]]',
      ctx,
    ),
    `SELECT time_bucket('3600.000s',ts) AS "time", x FROM t WHERE ts BETWEEN '2026-01-01T00:00:00Z' AND '2026-01-01T06:00:00.5Z' AND id IN ('a''1','b') AND 'a''1','b' = 'a''1','b'`,
  );
  t.is(interpolateGrafanaSql('SELECT $__timeGroup(ts, 5m), 1', ctx), `SELECT time_bucket('300.000s',ts) AS "time", 1`);
  t.is(
    interpolateGrafanaSql('WHERE ts > $__timeFrom() AND ts < $__timeTo()', ctx),
    `WHERE ts > '2026-01-01T00:00:00Z' AND ts < '2026-01-01T06:00:00.5Z'`,
  );
  t.throws(() => interpolateGrafanaSql('SELECT $__timeFilterr(ts)', ctx), { message: /unknown macro/ });
  t.throws(() => interpolateGrafanaSql('SELECT 1 WHERE id IN ($vehicle)', ctx), {
    message: /not substituted: \$vehicle/,
  });
  t.throws(
    () => interpolateGrafanaSql('SELECT $__timeGroupAlias(coalesce(a, b), 1h)', ctx),
    { message: /interval/ },
    'Grafana cuts arguments at the first ")"',
  );
  t.throws(() => interpolateGrafanaSql('SELECT $__timeFilter()', ctx), { message: /missing time column/ });
});
