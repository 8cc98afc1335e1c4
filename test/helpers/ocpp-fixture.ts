import test from 'ava';

import { HOUR_MS, MINUTE_MS } from '../../src/time.js';
import { station, type Station } from './ocpp-station.js';
import { startTestService, vehicleReading, type TestService } from './test-service.js';

/** The password the OCPP test files give their stations (16 to 40 characters). */
export const OCPP_PASSWORD = 'correct-horse-battery';

export const iso = (ms: number) => new Date(ms).toISOString();
/** Minute 0 of the OCPP tests: a whole hour 3 h ago, well inside the acceptance window. */
export const base = Math.floor((Date.now() - 3 * HOUR_MS) / HOUR_MS) * HOUR_MS;
export const at = (minute: number) => iso(base + minute * MINUTE_MS);
/** `ms` after minute `minute` (an assignment's bounds are 1 ms after the transaction's). */
export const after = (minute: number, ms: number) => iso(base + minute * MINUTE_MS + ms);

/** Registers a station (PUT /v1/charge-points/{id}) with a password; throws unless 200. */
export async function registerStation(svc: TestService, chargePointId: string, password = OCPP_PASSWORD) {
  const res = await svc.put(`/v1/charge-points/${chargePointId}`, { password });
  if (res.status !== 200) throw new Error(JSON.stringify(res.body));
}

/** A 1.6 meter value at a minute: one sampled value (the register unless `extra` says otherwise). */
export const sample = (minute: number, value: string, extra: Record<string, string> = {}) => ({
  timestamp: at(minute),
  sampledValue: [{ value, ...extra }],
});

/** Maps a vehicle to a meter from an hour before minute 0, with a vehicle reading at minute 0. */
export async function vehicleOnMeter(svc: TestService, vehicleId: string, meterId: string): Promise<void> {
  const mapped = await svc.put(`/v1/vehicles/${vehicleId}/meter`, { meterId, from: iso(base - HOUR_MS) });
  const read = await svc.post('/v1/ingestion/vehicle', [vehicleReading(vehicleId, new Date(base), 0)]);
  if (mapped.status >= 300 || read.status !== 202) throw new Error(JSON.stringify([mapped.body, read.body]));
}

export interface StationOptions {
  password?: string | undefined;
  protocols?: string[];
  strict?: boolean;
  /** Another service's URL than the file's. */
  url?: string;
}

/** Functions as properties, not methods: the test files take them out of the fixture. */
export interface OcppFixture {
  /** The file's service, started before its tests. */
  readonly svc: TestService;
  /** Resolves to it once started (for the file's own before hooks). */
  readonly ready: Promise<TestService>;
  /** A station's client, not connected yet; closed after the file's tests. */
  client: (chargePointId: string, options?: StationOptions) => Station;
  /** A station registered with OCPP_PASSWORD and connected (ocpp1.6 unless told). */
  connected: (chargePointId: string, protocols?: string[], strict?: boolean) => Promise<Station>;
  /** A meter's stored readings, oldest first. */
  meterRows: (meterId: string) => Promise<{ ts: Date; kwh_register: number | null; voltage: number }[]>;
  /** A meter's stored registers as [timestamp, kWh], oldest first. */
  registers: (meterId: string) => Promise<[string, number][]>;
  /** The value of a metric sample on /metrics, e.g. `ev_ocpp_ignored_samples_total` (0 if absent). */
  metric: (line: string) => Promise<number>;
}

/**
 * The service and the stations of an OCPP test file: registers the hooks that start the
 * service before the file's tests and close every station and the service after them.
 */
export function ocppFixture(env: Record<string, string> = {}): OcppFixture {
  let started: TestService | undefined;
  const open: Station[] = [];
  let starting: Promise<TestService> | undefined;
  // ava runs a file's before hooks concurrently: a hook of the file awaits `ready`, which
  // starts the service if this hook has not yet.
  const start = () => (starting ??= startTestService(env).then((svc) => (started = svc)));
  test.before(async () => {
    await start();
  });
  test.after.always(async () => {
    await Promise.all(open.map((client) => client.close({ force: true })));
    await started?.stop();
  });
  const svc = () => {
    if (!started) throw new Error('the OCPP fixture is used before its service started');
    return started;
  };
  const fixture: OcppFixture = {
    get ready() {
      return start();
    },
    get svc() {
      return svc();
    },
    client: (chargePointId, options = {}) => {
      const password = 'password' in options ? options.password : OCPP_PASSWORD;
      const client = station(options.url ?? svc().url, chargePointId, password, options.protocols, options.strict);
      open.push(client);
      return client;
    },
    connected: async (chargePointId, protocols = ['ocpp1.6'], strict = true) => {
      await registerStation(svc(), chargePointId);
      const client = fixture.client(chargePointId, { protocols, strict });
      await client.connect();
      return client;
    },
    meterRows: (meterId) =>
      svc()
        .dbHandle.db.selectFrom('meter_telemetry_history')
        .select(['ts', 'kwh_register', 'voltage'])
        .where('meter_id', '=', meterId)
        .orderBy('ts')
        .execute(),
    registers: async (meterId) =>
      (await fixture.meterRows(meterId)).map((row) => [row.ts.toISOString(), Number(row.kwh_register)]),
    metric: async (line) => {
      const text = (await svc().get('/metrics')).body as string;
      const found = text.split('\n').find((l) => l.startsWith(`${line} `));
      return found === undefined ? 0 : Number(found.slice(line.length + 1));
    },
  };
  return fixture;
}
