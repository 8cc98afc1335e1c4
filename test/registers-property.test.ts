import test from 'ava';
import { sql } from 'kysely';

import { JobScheduler } from '../src/jobs/job-scheduler.js';
import { createLogger } from '../src/logger.js';
import { MAX_INTERVAL_KWH } from '../src/telemetry/reading-bounds.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../src/time.js';
import { seededRandom } from '../tools/simulator/random.js';
import { startTestService, type TestService } from './helpers/test-service.js';

/**
 * Property: a device that reports a register (running total with resets and jumps), sent in
 * any order, in random batches, with duplicates, while the jobs refresh and compress, gets
 * exactly the analytics of a twin device that sends the same energy as interval readings;
 * and every stored register reading's energy and event equal the chain rule applied by brute
 * force to the stored registers in timestamp order (register-chain.repository.ts).
 *
 * Registers are generated in watt-hours (integers) and sent as kWh, so the decimal
 * difference the database takes is the twin's interval energy exactly.
 */
const SEED = Number(process.env.PROPERTY_SEED ?? 20261129);
const PAIRS = 4;

let svc: TestService;
test.before(async () => {
  svc = await startTestService();
});
test.after.always(async () => {
  await svc?.stop();
});

interface Generated {
  ts: number;
  /** Register in Wh. */
  registerWh: number;
  /** What the chain rule must count, in Wh: the twin sends this as its interval energy. */
  countedWh: number;
}

type Body = Record<string, string | number>;

test('register devices equal their interval twins, and the stored chain equals the rule, whatever the arrival', async (t) => {
  const rnd = seededRandom(SEED);
  const now = Date.now();
  const start = now - 5 * DAY_MS;
  const runJobs = () => new JobScheduler(svc.dbHandle.maintenanceDb, 60_000, createLogger('silent')).runDueJobs();

  /** A register series: increments, some zero, resets to a small value, rare jumps. */
  const series = (): Generated[] => {
    const rows: Generated[] = [];
    let registerWh = Math.floor(rnd() * 50_000_000);
    for (
      let ts = start + Math.floor(rnd() * 10 * MINUTE_MS);
      ts < now;
      ts += (2 + Math.floor(rnd() * 40)) * MINUTE_MS
    ) {
      const r = rnd();
      const stepWh = r < 0.2 ? 0 : Math.floor(rnd() * 7_000);
      if (rows.length === 0) {
        rows.push({ ts, registerWh, countedWh: 0 });
      } else if (r > 0.985 && stepWh < registerWh) {
        // A decrease: a reset counting from zero, or jitter (at most 10 Wh) counting nothing.
        const jitter = registerWh - stepWh <= 10;
        registerWh = stepWh;
        rows.push({ ts, registerWh, countedWh: jitter ? 0 : stepWh });
      } else if (r > 0.975) {
        registerWh += (MAX_INTERVAL_KWH + 1) * 1000 + stepWh; // jump: counted as 0
        rows.push({ ts, registerWh, countedWh: 0 });
      } else {
        registerWh += stepWh;
        rows.push({ ts, registerWh, countedWh: stepWh });
      }
    }
    return rows;
  };

  // Each pair: a register meter and vehicle, and their interval twins, mapped 1:1.
  const arrivals: { path: string; body: Body }[] = [];
  const pairs = [];
  for (let k = 0; k < PAIRS; k += 1) {
    const ids = { mr: `rp-mr${k}`, mi: `rp-mi${k}`, vr: `rp-vr${k}`, vi: `rp-vi${k}` };
    pairs.push(ids);
    t.is(
      (await svc.put(`/v1/vehicles/${ids.vr}/meter`, { meterId: ids.mr, from: new Date(start - DAY_MS).toISOString() }))
        .status,
      200,
    );
    t.is(
      (await svc.put(`/v1/vehicles/${ids.vi}/meter`, { meterId: ids.mi, from: new Date(start - DAY_MS).toISOString() }))
        .status,
      200,
    );
    for (const row of series()) {
      const timestamp = new Date(row.ts).toISOString();
      arrivals.push(
        {
          path: 'meter',
          body: { meterId: ids.mr, kwhConsumedAcTotal: row.registerWh / 1000, voltage: 230, timestamp },
        },
        { path: 'meter', body: { meterId: ids.mi, kwhConsumedAc: row.countedWh / 1000, voltage: 230, timestamp } },
      );
    }
    for (const row of series()) {
      const timestamp = new Date(row.ts).toISOString();
      const common = { soc: 50, batteryTemp: 30, timestamp };
      arrivals.push(
        { path: 'vehicle', body: { vehicleId: ids.vr, kwhDeliveredDcTotal: row.registerWh / 1000, ...common } },
        { path: 'vehicle', body: { vehicleId: ids.vi, kwhDeliveredDc: row.countedWh / 1000, ...common } },
      );
    }
  }
  // Any arrival order; duplicates re-sent later with another register (the first one stays).
  for (let i = arrivals.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rnd() * (i + 1));
    [arrivals[i], arrivals[j]] = [arrivals[j]!, arrivals[i]!];
  }
  const count = arrivals.length;
  for (let i = 0; i < count / 20; i += 1) {
    const original = arrivals[Math.floor(rnd() * count)]!;
    const changed = { ...original.body };
    if ('kwhConsumedAcTotal' in changed) changed.kwhConsumedAcTotal = Math.floor(rnd() * 1e6) / 1000;
    if ('kwhDeliveredDcTotal' in changed) changed.kwhDeliveredDcTotal = Math.floor(rnd() * 1e6) / 1000;
    arrivals.push({ path: original.path, body: changed });
  }

  // Random batches (mixed devices and ages), jobs and compression in between.
  let duplicates = 0;
  for (let i = 0; i < arrivals.length;) {
    const size = 1 + Math.floor(rnd() * (rnd() < 0.5 ? 5 : 400));
    const slice = arrivals.slice(i, i + size);
    i += size;
    for (const path of ['meter', 'vehicle']) {
      const bodies = slice.filter((a) => a.path === path).map((a) => a.body);
      if (bodies.length === 0) continue;
      const res = await svc.post(`/v1/ingestion/${path}`, bodies);
      t.is(res.status, 202, JSON.stringify(res.body));
      duplicates += res.body.duplicates as number;
    }
    const r = rnd();
    if (r < 0.08) await runJobs();
    else if (r < 0.1) {
      for (const table of ['meter_telemetry_history', 'vehicle_telemetry_history']) {
        await sql`SELECT compress_chunk(c, if_not_compressed => true)
          FROM show_chunks(${table}::regclass, older_than => ${`${1 + Math.floor(rnd() * 3)} days`}::interval) c`.execute(
          svc.dbHandle.maintenanceDb,
        );
      }
    }
  }
  t.is(duplicates, arrivals.length - count, 'every re-sent reading is a duplicate');

  // 1. The stored chain equals the rule applied to the stored registers by brute force.
  let checkedRows = 0;
  for (const [table, idColumn, energy] of [
    ['meter_telemetry_history', 'meter_id', 'kwh_consumed_ac'],
    ['vehicle_telemetry_history', 'vehicle_id', 'kwh_delivered_dc'],
  ] as const) {
    const rows = await sql<{ id: string; register: number; kwh: number; event: string | null }>`
      SELECT ${sql.ref(idColumn)} AS id, kwh_register AS register, ${sql.ref(energy)} AS kwh, register_event AS event
      FROM ${sql.table(table)} WHERE kwh_register IS NOT NULL ORDER BY 1, ts`.execute(svc.dbHandle.db);
    let previous: { id: string; register: number } | undefined;
    for (const row of rows.rows) {
      const prior = previous?.id === row.id ? previous.register : undefined;
      const expected =
        prior === undefined
          ? { kwh: 0, event: 'first' }
          : row.register < prior && Math.round((prior - row.register) * 1000) <= 10
            ? { kwh: 0, event: null }
            : row.register < prior
              ? { kwh: row.register > MAX_INTERVAL_KWH ? 0 : row.register, event: 'reset' }
              : row.register - prior > MAX_INTERVAL_KWH
                ? { kwh: 0, event: 'jump' }
                : { kwh: row.register - prior, event: null };
      if (Math.abs(row.kwh - expected.kwh) > 1e-9 || row.event !== expected.event) {
        t.fail(`${row.id}: stored ${row.kwh} ${row.event}, rule ${expected.kwh} ${expected.event}`);
      }
      checkedRows += 1;
      previous = row;
    }
  }

  // 2. Every window of a register vehicle equals its interval twin's.
  await runJobs();
  let windows = 0;
  for (let w = 0; w < 60; w += 1) {
    const ids = pairs[Math.floor(rnd() * PAIRS)]!;
    const from = start + Math.floor(rnd() * (now - start - HOUR_MS));
    const to = Math.min(now, from + Math.floor(rnd() * (rnd() < 0.5 ? 6 * HOUR_MS : 3 * DAY_MS)) + 1);
    const query = `?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;
    const [register, interval] = await Promise.all([
      svc.get(`/v1/analytics/performance/${ids.vr}${query}`),
      svc.get(`/v1/analytics/performance/${ids.vi}${query}`),
    ]);
    t.is(register.status, 200);
    const figures = (body: Record<string, unknown>) => ({
      ac: body.acEnergyKwh,
      dc: body.dcEnergyKwh,
      readings: body.readings,
      efficiency: body.efficiencyRatio,
      status: body.efficiencyStatus,
      coverage: body.coverage,
    });
    t.deepEqual(figures(register.body), figures(interval.body), `${ids.vr} ${query}`);
    windows += 1;
  }
  t.log(`${checkedRows} stored register readings checked, ${windows} windows, ${duplicates} duplicates`);
});
