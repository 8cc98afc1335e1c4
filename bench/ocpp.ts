/**
 * OCPP figures (`npm run bench:ocpp`): charging stations connected at once, MeterValues calls
 * per second through the service's OCPP endpoint, and the confirmation latency of each call
 * (sent to CALLRESULT, which the service answers only after the readings committed). Everything
 * on this machine: the service and the stations (ocpp-rpc clients, OCPP 1.6J, not strict: the
 * service validates strictly) in this process, the embedded TimescaleDB in its child process.
 */
import ocppRpc from 'ocpp-rpc';

import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/logger.js';
import { startService } from '../src/runtime/api-process.js';
import { MINUTE_MS } from '../src/time.js';
import { percentile } from './lib/stats.js';

const { RPCClient } = ocppRpc;
type Station = InstanceType<typeof RPCClient>;

const STATIONS = Number(process.env.BENCH_OCPP_STATIONS ?? 200);
const CALLS = Number(process.env.BENCH_OCPP_CALLS ?? 30);
const ADMIN_KEY = 'bench-admin-key-0123456789abcdef0123456789';
const PASSWORD = 'bench-station-password-0123';

const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ADMIN_API_KEY: ADMIN_KEY });
const service = await startService(config, createLogger('warn'), { inMemory: true, runJobs: false });
const ids = Array.from({ length: STATIONS }, (_, i) => `bench-cp-${String(i).padStart(5, '0')}`);

// 1. Passwords (admin API), then every station connects and boots.
for (const id of ids) {
  const res = await fetch(`${service.url}/v1/charge-points/${id}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ password: PASSWORD }),
  });
  if (res.status !== 200 && res.status !== 201) throw new Error(`PUT charge point ${id}: ${res.status}`);
}
const connectStarted = performance.now();
const stations: Station[] = await Promise.all(
  ids.map(async (identity) => {
    const station = new RPCClient({
      endpoint: `${service.url.replace(/^http/, 'ws')}/ocpp`,
      identity,
      password: PASSWORD,
      protocols: ['ocpp1.6'],
      strictMode: false,
      reconnect: false,
    } as ConstructorParameters<typeof RPCClient>[0]);
    await station.connect();
    await station.call('BootNotification', { chargePointVendor: 'bench', chargePointModel: 'sim' });
    return station;
  }),
);
const connectSeconds = (performance.now() - connectStarted) / 1000;

// 2. Every station sends CALLS MeterValues one after another (a register a minute, in the
//    past hour), all stations at once.
const first = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - (CALLS + 1) * MINUTE_MS;
const latencies: number[] = [];
const sendStarted = performance.now();
await Promise.all(
  stations.map(async (station, s) => {
    for (let c = 0; c < CALLS; c += 1) {
      const sent = performance.now();
      await station.call('MeterValues', {
        connectorId: 1,
        meterValue: [
          {
            timestamp: new Date(first + c * MINUTE_MS).toISOString(),
            sampledValue: [
              { value: String(1_000_000 + s * 1000 + c * 183), measurand: 'Energy.Active.Import.Register' },
            ],
          },
        ],
      });
      latencies.push(performance.now() - sent);
    }
  }),
);
const sendSeconds = (performance.now() - sendStarted) / 1000;
const stored = Number(
  (
    await service.dbHandle.db
      .selectFrom('meter_telemetry_history')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('meter_id', 'like', 'bench-cp-%')
      .executeTakeFirstOrThrow()
  ).n,
);

// 3. The reference, in the same run: the same readings as single-reading HTTP requests (register
//    readings of other meters), one client per meter, all at once.
const httpLatencies: number[] = [];
const httpStarted = performance.now();
await Promise.all(
  ids.map(async (id, s) => {
    for (let c = 0; c < CALLS; c += 1) {
      const sent = performance.now();
      const res = await fetch(`${service.url}/v1/ingestion/meter`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          meterId: `http-${id}`,
          kwhConsumedAcTotal: (1_000_000 + s * 1000 + c * 183) / 1000,
          voltage: 230,
          timestamp: new Date(first + c * MINUTE_MS).toISOString(),
        }),
      });
      if (res.status !== 202) throw new Error(`HTTP reference: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      httpLatencies.push(performance.now() - sent);
    }
  }),
);
const httpSeconds = (performance.now() - httpStarted) / 1000;

// 4. A heartbeat round trip from each station while all are connected.
const heartbeats: number[] = [];
await Promise.all(
  stations.map(async (station) => {
    const sent = performance.now();
    await station.call('Heartbeat', {});
    heartbeats.push(performance.now() - sent);
  }),
);

await Promise.all(stations.map((station) => station.close({ force: true })));
await service.stop();

const calls = STATIONS * CALLS;
const lines = [
  `OCPP 1.6J (embedded database in memory, ${STATIONS} stations, ${CALLS} MeterValues each, one register per call)`,
  `connect+boot:  ${STATIONS} stations in ${connectSeconds.toFixed(1)} s (password check included)`,
  `MeterValues:   ${calls} calls in ${sendSeconds.toFixed(1)} s = ${Math.round(calls / sendSeconds)} calls/s; ${stored} readings stored`,
  `HTTP reference: ${calls} single-reading requests in ${httpSeconds.toFixed(1)} s = ${Math.round(calls / httpSeconds)} requests/s; OCPP / HTTP = ${(httpSeconds / sendSeconds).toFixed(2)}`,
  `confirmation:  p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms (call sent to CALLRESULT, after commit)`,
  `HTTP 202:      p50 ${percentile(httpLatencies, 50).toFixed(1)} ms, p99 ${percentile(httpLatencies, 99).toFixed(1)} ms`,
  `heartbeat:     p50 ${percentile(heartbeats, 50).toFixed(1)} ms, p99 ${percentile(heartbeats, 99).toFixed(1)} ms (all ${STATIONS} at once)`,
];
process.stdout.write(`${lines.join('\n')}\n`);
if (stored !== calls) {
  process.stderr.write(`expected ${calls} readings stored, found ${stored}\n`);
  process.exitCode = 1;
}
