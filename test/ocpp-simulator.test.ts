import test, { type ExecutionContext } from 'ava';

import { MINUTE_MS } from '../src/time.js';
import { createFleet } from '../tools/simulator/fleet-model.js';
import { OcppSink, type SimProtocol } from '../tools/simulator/ocpp-sink.js';
import { runSimulation } from '../tools/simulator/simulation.js';
import { separateDatabaseEnv } from './helpers/test-database.js';
import { startTestService, TEST_ADMIN_KEY, type TestService } from './helpers/test-service.js';

// One service per version, on a database of its own on a server: both runs use the same station,
// meter and vehicle ids.
const services: TestService[] = [];
test.after.always(async () => {
  await Promise.all(services.map((svc) => svc.stop()));
});

const VEHICLES = 4;
const SEED = 17; // in these 2 h: four plug-ins, two of them unplugged again, one vehicle plugged from the start
const MINUTES = 120;
const MICRO = 1_000_000;
const iso = (ms: number) => new Date(ms).toISOString();

interface Expected {
  /** Per meter: its register readings (timestamp, kWh) as the model ran them. */
  registers: Map<string, [string, number][]>;
  /** Per vehicle: its sessions (start, stop or null) and the model's energies in them (micro-kWh). */
  sessions: Map<string, { start: number; stop: number | null }[]>;
  acMicro: Map<string, number>;
  dcMicro: Map<string, number>;
}

/**
 * The model run again, independently of the sink: the registers the stations should have
 * sent, and each vehicle's AC and DC energy of the minutes in its sessions, from the same seed's
 * interval energies (the register form charges the same). A reading is the energy of the minute
 * that ends at it, so a session counts the minutes after its plug-in, up to its unplugging.
 */
function replay(start: number): Expected {
  const registerFleet = createFleet(VEHICLES, SEED, 0.5, 'register');
  const intervalFleet = createFleet(VEHICLES, SEED, 0.5, 'interval');
  const expected: Expected = { registers: new Map(), sessions: new Map(), acMicro: new Map(), dcMicro: new Map() };
  for (const v of registerFleet) {
    expected.registers.set(`${v.meterId}:1`, []);
    expected.sessions.set(v.vehicleId, []);
    expected.acMicro.set(v.vehicleId, 0);
    expected.dcMicro.set(v.vehicleId, 0);
  }
  for (let m = 0; m < MINUTES; m += 1) {
    const at = start + m * MINUTE_MS;
    registerFleet.forEach((vehicle, index) => {
      // Plugged before this minute: its energy is the session's (the sink, as a station that has
      // just booted, starts a transaction at its first minute for a vehicle plugged in already).
      const inSession = m > 0 && vehicle.plugged;
      const { meter } = vehicle.step(new Date(at));
      const { meter: acMinute, vehicle: dcMinute } = intervalFleet[index]!.step(new Date(at));
      expected.registers.get(`${vehicle.meterId}:1`)!.push([iso(at), meter.kwhConsumedAcTotal!]);
      const sessions = expected.sessions.get(vehicle.vehicleId)!;
      if (inSession) {
        const id = vehicle.vehicleId;
        expected.acMicro.set(id, expected.acMicro.get(id)! + Math.round(acMinute.kwhConsumedAc! * MICRO));
        expected.dcMicro.set(id, expected.dcMicro.get(id)! + Math.round(dcMinute.kwhDeliveredDc! * MICRO));
      }
      if (!inSession && vehicle.plugged) sessions.push({ start: at, stop: null });
      if (inSession && !vehicle.plugged) sessions.at(-1)!.stop = at;
    });
  }
  return expected;
}

async function simulatedFleetIsExact(t: ExecutionContext, protocol: SimProtocol): Promise<void> {
  const svc = await startTestService(await separateDatabaseEnv());
  services.push(svc);
  const end = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  const start = end - MINUTES * MINUTE_MS;
  const stats = await runSimulation({
    url: svc.url,
    apiKey: TEST_ADMIN_KEY,
    vehicles: VEHICLES,
    seed: SEED,
    faultyShare: 0.5,
    backfillMs: MINUTES * MINUTE_MS,
    backfillEndMs: end,
    speed: 1,
    batch: 100,
    concurrency: 3,
    ocpp: new OcppSink({ url: svc.url, valuesPerCall: 60, protocol }),
  });
  t.is(stats.errors, 0);
  t.is(stats.sent, VEHICLES * MINUTES * 2); // meter values over OCPP, vehicle readings over HTTP
  const expected = replay(start);

  // Every station booted over its version, its connector's status as its last session left it.
  for (const [vehicleId, sessions] of expected.sessions) {
    const station = await svc.get(`/v1/charge-points/sim-meter-${vehicleId.slice('sim-ev-'.length)}`);
    t.like(station.body, { protocol, model: 'simulator' });
    const plugged = sessions.at(-1)?.stop === null;
    const pluggedStatus = protocol === 'ocpp1.6' ? 'Charging' : 'Occupied';
    t.is(station.body.connectors[0].status, plugged ? pluggedStatus : 'Available', `${vehicleId}: connector status`);
    t.is(station.body.openTransactions.length, plugged ? 1 : 0, `${vehicleId}: its open transaction`);
  }

  for (const [meterId, registers] of expected.registers) {
    const rows = await svc.dbHandle.db
      .selectFrom('meter_telemetry_history')
      .select(['ts', 'kwh_register'])
      .where('meter_id', '=', meterId)
      .orderBy('ts')
      .execute();
    t.deepEqual(
      rows.map((r) => [r.ts.toISOString(), Number(r.kwh_register)]),
      registers,
      `${meterId}: the model's registers`,
    );
  }

  let completed = 0;
  for (const [vehicleId, sessions] of expected.sessions) {
    completed += sessions.filter((s) => s.stop !== null).length;
    const history = await svc.get(`/v1/vehicles/${vehicleId}/meter/history`);
    t.deepEqual(
      history.body.assignments.map((a: { meterId: string; from: string; to: string | null }) => [
        a.meterId,
        a.from,
        a.to,
      ]),
      sessions.map((s) => [
        `sim-meter-${vehicleId.slice('sim-ev-'.length)}:1`,
        iso(s.start + 1),
        s.stop === null ? null : iso(s.stop + 1),
      ]),
      `${vehicleId}: its assignments follow its plug`,
    );
    const report = await svc.get(`/v1/analytics/performance/${vehicleId}?from=${iso(start)}&to=${iso(end)}`);
    t.is(report.status, 200);
    t.is(report.body.acEnergyKwh, expected.acMicro.get(vehicleId)! / MICRO, `${vehicleId}: AC of its sessions`);
    t.is(report.body.dcEnergyKwh, expected.dcMicro.get(vehicleId)! / MICRO, `${vehicleId}: DC of its sessions`);
  }
  t.true(completed >= 2, 'the seed has sessions that end within the run');
  t.true([...expected.acMicro.values()].some((kwh) => kwh > 0));
}

for (const protocol of ['ocpp1.6', 'ocpp2.0.1'] as const) {
  test(`the OCPP sink (${protocol}): stations send the model registers, their transactions assign the vehicles, analytics are exact`, (t) =>
    simulatedFleetIsExact(t, protocol));
}
