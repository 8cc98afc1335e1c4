import test from 'ava';
import { sql } from 'kysely';

import { JobScheduler } from '../src/jobs/job-scheduler.js';
import { createLogger } from '../src/logger.js';
import { writeBatch } from '../src/telemetry/batch-writer.js';
import { MAX_INTERVAL_KWH } from '../src/telemetry/reading-bounds.js';
import type { MeterReading, ReadingKind, VehicleReading } from '../src/telemetry/reading.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../src/time.js';
import { seededRandom } from '../tools/simulator/random.js';
import { asReading, postArrivals, type Arrival } from './helpers/arrivals.js';
import { countedWh, JITTER_WH } from './helpers/register-rule.js';
import { startTestService, type TestService } from './helpers/test-service.js';

/**
 * Property (issue 23): devices that MIX both energy forms, with duplicates across forms (the
 * same instant sent as an interval and as a register reading, with other values), in any
 * arrival order, across raw retention: the history older than the retention is stored first
 * (as it was when it arrived on time), TimescaleDB's retention policy drops it, then the rest
 * arrives late through the API, in random batches, with jobs and compression in between.
 *
 * The oracle is what was actually stored: the first arrival of each (device, instant) wins,
 * whatever its form. An interval reading counts its energy; a register reading the chain rule
 * (baseline, difference, 10 Wh jitter, reset, jump) applied by brute force to the winning
 * register readings in timestamp order, dropped ones included. Checked: every stored row and
 * its link, every live row, and random windows of every vehicle against the brute-force sum.
 *
 * Registers are generated in watt-hours (integers) and sent as kWh: the decimal arithmetic
 * of the chain is then the integer arithmetic of the oracle.
 */
const SEED = Number(process.env.PROPERTY_SEED ?? 20261203);
const PAIRS = 3;
const ACCEPTED_AGE_MS = 27.5 * DAY_MS; // inside the 28 days the API accepts

let svc: TestService;
test.before(async () => {
  svc = await startTestService();
});
test.after.always(async () => {
  await svc?.stop();
});

test('mixed energy forms, duplicates across forms, any order, across retention: every stored row and window equals the brute force', async (t) => {
  const rnd = seededRandom(SEED);
  const pick = <T>(items: readonly T[]) => items[Math.floor(rnd() * items.length)]!;
  const now = Date.now();
  const start = now - 34 * DAY_MS;
  const runJobs = () => new JobScheduler(svc.dbHandle.maintenanceDb, 60_000, createLogger('silent')).runDueJobs();

  // --- generation ------------------------------------------------------------------------
  const arrivals: Arrival[] = [];
  const devices: { stream: ReadingKind; device: string }[] = [];
  for (let k = 0; k < PAIRS; k += 1) {
    const vehicle = `mx-v${k}`;
    const meter = `mx-m${k}`;
    t.is(
      (await svc.put(`/v1/vehicles/${vehicle}/meter`, { meterId: meter, from: new Date(start - DAY_MS).toISOString() }))
        .status,
      200,
    );
    devices.push({ stream: 'meter', device: meter }, { stream: 'vehicle', device: vehicle });
  }
  for (const { stream, device } of devices) {
    // Mostly one form, some devices switching often; sparse stretches of days (a late
    // reading then lands between a dropped predecessor and the first kept reading).
    const registerShare = pick([0.9, 0.5, 0.1]);
    let registerWh = Math.floor(rnd() * 50_000_000);
    for (let ts = start + Math.floor(rnd() * HOUR_MS); ts < now - MINUTE_MS;) {
      const r = rnd();
      if (r < 0.03)
        registerWh = Math.floor(rnd() * 3_000); // reset
      else if (r < 0.05)
        registerWh += (MAX_INTERVAL_KWH + 1) * 1000 + Math.floor(rnd() * 5_000); // jump
      else if (r < 0.12)
        registerWh = Math.max(0, registerWh - 1 - Math.floor(rnd() * (JITTER_WH + 3))); // dip
      else if (r > 0.3) registerWh += Math.floor(rnd() * 7_000);
      const asRegister = rnd() < registerShare;
      arrivals.push({
        stream,
        device,
        ts,
        intervalWh: asRegister ? null : Math.floor(rnd() * 5_000),
        registerWh: asRegister ? registerWh : null,
      });
      // Duplicates: the same instant in the other form or with another value (the issue's 0).
      while (rnd() < 0.12) {
        const otherForm = rnd() < 0.6 ? !asRegister : asRegister;
        arrivals.push({
          stream,
          device,
          ts,
          intervalWh: otherForm ? null : Math.floor(rnd() * 5_000),
          registerWh: otherForm ? pick([0, Math.floor(rnd() * 60_000_000), registerWh + 1]) : null,
        });
      }
      const gap = rnd();
      ts +=
        gap < 0.04
          ? DAY_MS + Math.floor(rnd() * 5 * DAY_MS)
          : gap < 0.5
            ? Math.floor(1 + rnd() * 20) * MINUTE_MS
            : Math.floor(1 + rnd() * 6) * HOUR_MS;
    }
  }
  const shuffle = <T>(items: T[]) => {
    for (let i = items.length - 1; i > 0; i -= 1) {
      const j = Math.floor(rnd() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  };
  // Too old for the API: stored before retention ran. The rest: some then, most late.
  const early = shuffle(arrivals.filter((a) => a.ts < now - ACCEPTED_AGE_MS || rnd() < 0.3));
  const late = shuffle(arrivals.filter((a) => !early.includes(a)));

  // --- the oracle: first arrival wins ------------------------------------------------------
  const key = (a: Pick<Arrival, 'stream' | 'device' | 'ts'>) => `${a.stream}|${a.device}|${a.ts}`;
  const winners = new Map<string, Arrival>();
  for (const a of [...early, ...late]) if (!winners.has(key(a))) winners.set(key(a), a);
  /** Per winner: the energy it counts (Wh), its event and link, by the rule over the winning registers. */
  const expected = new Map<string, { wh: number; event: string | null; previous: { ts: number; wh: number } | null }>();
  for (const { stream, device } of devices) {
    const mine = [...winners.values()].filter((a) => a.stream === stream && a.device === device);
    mine.sort((a, b) => a.ts - b.ts);
    let previous: { ts: number; wh: number } | null = null;
    for (const a of mine) {
      if (a.registerWh === null) {
        expected.set(key(a), { wh: a.intervalWh!, event: null, previous: null });
        continue;
      }
      expected.set(key(a), { ...countedWh(previous?.wh, a.registerWh), previous });
      previous = { ts: a.ts, wh: a.registerWh };
    }
  }

  // --- 1. the early arrivals, written as they arrived, then retention -----------------------
  for (let i = 0; i < early.length;) {
    const slice = early.slice(i, (i += 1 + Math.floor(rnd() * 200)));
    const seen = new Set<string>(); // a batch holds each instant once (the queue dedupes: first wins)
    const unique = slice.filter((a) => !seen.has(key(a)) && seen.add(key(a)));
    await writeBatch(svc.dbHandle.db, {
      meter: unique.filter((a) => a.stream === 'meter').map(asReading) as MeterReading[],
      vehicle: unique.filter((a) => a.stream === 'vehicle').map(asReading) as VehicleReading[],
    });
  }
  await runJobs(); // TimescaleDB's retention policy drops the chunks older than 30 days
  const oldest = await sql<{ ts: Date | null }>`SELECT min(ts) AS ts FROM meter_telemetry_history`.execute(
    svc.dbHandle.db,
  );
  t.true(oldest.rows[0]!.ts!.getTime() > now - 31 * DAY_MS, 'retention dropped the old chunks');

  // --- 2. the late arrivals through the API -----------------------------------------------------
  let duplicates = 0;
  for (let i = 0; i < late.length;) {
    const slice = late.slice(i, (i += 1 + Math.floor(rnd() * (rnd() < 0.5 ? 5 : 150))));
    duplicates += await postArrivals(t, svc, slice);
    const r = rnd();
    if (r < 0.06) await runJobs();
    else if (r < 0.09) {
      for (const table of ['meter_telemetry_history', 'vehicle_telemetry_history']) {
        await sql`SELECT compress_chunk(c, if_not_compressed => true)
          FROM show_chunks(${table}::regclass, older_than => ${`${1 + Math.floor(rnd() * 20)} days`}::interval) c`.execute(
          svc.dbHandle.maintenanceDb,
        );
      }
    }
  }
  const lateWinners = late.filter((a) => winners.get(key(a)) === a).length;
  t.is(late.length - duplicates, lateWinners, 'a late arrival is stored exactly when it is the first at its instant');
  await runJobs();

  // --- 3. every stored row is its winner, with the energy, event and link of the rule ----------
  let checkedRows = 0;
  const storedKeys = new Set<string>();
  for (const [stream, table, idColumn, energy] of [
    ['meter', 'meter_telemetry_history', 'meter_id', 'kwh_consumed_ac'],
    ['vehicle', 'vehicle_telemetry_history', 'vehicle_id', 'kwh_delivered_dc'],
  ] as const) {
    const rows = await sql<{
      id: string;
      ts: Date;
      register: number | null;
      kwh: number;
      event: string | null;
      previous_ts: Date | null;
      previous_register: number | null;
    }>`
      SELECT ${sql.ref(idColumn)} AS id, ts, kwh_register AS register, ${sql.ref(energy)} AS kwh,
             register_event AS event, previous_ts, previous_register
      FROM ${sql.table(table)} WHERE ${sql.ref(idColumn)} LIKE 'mx-%'`.execute(svc.dbHandle.db);
    for (const row of rows.rows) {
      const k = key({ stream, device: row.id, ts: row.ts.getTime() });
      storedKeys.add(k);
      const winner = winners.get(k)!;
      const rule = expected.get(k)!;
      const label = `${k} (${new Date(row.ts).toISOString()})`;
      t.is(row.register === null ? null : Math.round(row.register * 1000), winner.registerWh, `${label} form`);
      t.true(Math.abs(row.kwh - rule.wh / 1000) < 1e-9, `${label}: stored ${row.kwh}, rule ${rule.wh / 1000}`);
      t.is(row.event, rule.event, `${label} event`);
      const link = row.previous_ts
        ? { ts: row.previous_ts.getTime(), wh: Math.round(row.previous_register! * 1000) }
        : null;
      t.deepEqual(link, rule.previous, `${label} link`);
      checkedRows += 1;
    }
  }
  for (const [k, a] of winners) if (a.ts >= now - 29 * DAY_MS) t.true(storedKeys.has(k), `${k} is stored`);

  // --- 4. live rows: the newest winner, with its energy ------------------------------------------
  for (const { stream, device } of devices) {
    const newest = [...winners.values()]
      .filter((a) => a.stream === stream && a.device === device)
      .reduce((a, b) => (b.ts > a.ts ? b : a));
    const live = await svc.get(`/v1/${stream === 'meter' ? 'meters' : 'vehicles'}/${device}/live`);
    const [interval, total] =
      stream === 'meter' ? ['kwhConsumedAc', 'kwhConsumedAcTotal'] : ['kwhDeliveredDc', 'kwhDeliveredDcTotal'];
    t.is(live.body.timestamp, new Date(newest.ts).toISOString(), `${device} live`);
    t.true(Math.abs(live.body[interval] - expected.get(key(newest))!.wh / 1000) < 1e-9, `${device} live energy`);
    t.is(
      live.body[total] ?? null,
      newest.registerWh === null ? null : newest.registerWh / 1000,
      `${device} live register`,
    );
  }

  // --- 5. windows: the brute-force sum over the winners ------------------------------------------
  const sum = (stream: ReadingKind, device: string, from: number, to: number) => {
    const inside = [...winners.values()].filter(
      (a) => a.stream === stream && a.device === device && a.ts >= from && a.ts < to,
    );
    return { kwh: inside.reduce((n, a) => n + expected.get(key(a))!.wh, 0) / 1000, readings: inside.length };
  };
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 + 1e-12 * Math.abs(b);
  let windows = 0;
  for (let w = 0; w < 80; w += 1) {
    const k = Math.floor(rnd() * PAIRS);
    const align = pick([1, MINUTE_MS, HOUR_MS, DAY_MS]);
    const lo = now - 27 * DAY_MS;
    const from = Math.ceil((lo + rnd() * (now - lo - HOUR_MS)) / align) * align;
    const to = Math.min(
      now,
      from + Math.max(align, Math.floor((rnd() < 0.5 ? rnd() * DAY_MS : rnd() * 14 * DAY_MS) / align) * align),
    );
    const res = await svc.get(
      `/v1/analytics/performance/mx-v${k}?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`,
    );
    const label = `mx-v${k} [${new Date(from).toISOString()}, ${new Date(to).toISOString()})`;
    t.is(res.status, 200, `${label}: ${JSON.stringify(res.body)}`);
    const ac = sum('meter', `mx-m${k}`, from, to);
    const dc = sum('vehicle', `mx-v${k}`, from, to);
    t.true(close(res.body.acEnergyKwh, ac.kwh), `${label} AC ${res.body.acEnergyKwh} vs ${ac.kwh}`);
    t.true(close(res.body.dcEnergyKwh, dc.kwh), `${label} DC ${res.body.dcEnergyKwh} vs ${dc.kwh}`);
    t.deepEqual(res.body.readings, { meter: ac.readings, vehicle: dc.readings }, label);
    windows += 1;
  }
  const crossForm = [...winners.values()].filter((a) =>
    arrivals.some((b) => key(b) === key(a) && (b.registerWh === null) !== (a.registerWh === null)),
  ).length;
  t.true(crossForm > 20, `${crossForm} instants sent in both forms`);
  const pastDropped = late.filter((a) => {
    const previous = winners.get(key(a)) === a ? expected.get(key(a))!.previous : null;
    return previous !== null && previous.ts < oldest.rows[0]!.ts!.getTime();
  }).length;
  t.true(pastDropped > 0, 'late readings whose predecessor retention dropped');
  t.log(
    `${arrivals.length} arrivals, ${winners.size} stored once, ${checkedRows} rows checked, ${crossForm} instants in both forms, ${pastDropped} late past a dropped predecessor, ${windows} windows`,
  );
});
