/**
 * Stream ingestion figures (`npm run bench:stream`): readings/s from a Kinesis backlog into
 * the database, and end-to-end lag from PutRecord to the reading visible through the API.
 * Everything on this machine: kinesis-local (its own process), the service with its stream
 * consumer and the producer in this process, the embedded TimescaleDB in its child process.
 */
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/logger.js';
import { startService } from '../src/runtime/api-process.js';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, startKinesisEmulator } from '../tools/harness/kinesis-emulator.js';
import { KinesisSink } from '../tools/simulator/kinesis-sink.js';

const DEVICES = Number(process.env.BENCH_STREAM_DEVICES ?? 500);
const MINUTES = Number(process.env.BENCH_STREAM_MINUTES ?? 120);
const READINGS_PER_RECORD = 60;
const LAG_SAMPLES = 40;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

const emulator = await startKinesisEmulator();
process.env.AWS_ACCESS_KEY_ID = EMULATOR_CREDENTIALS.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = EMULATOR_CREDENTIALS.secretAccessKey;
await emulator.createStream('bench-meter', 2);
const sink = new KinesisSink({
  client: emulator.client,
  meterStream: 'bench-meter',
  vehicleStream: 'bench-meter',
  readingsPerRecord: READINGS_PER_RECORD,
});

// 1. A backlog on the stream, then the consumer drains it.
const end = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
const readings = [];
for (let m = 0; m < MINUTES; m += 1) {
  for (let d = 0; d < DEVICES; d += 1) {
    readings.push({
      meterId: `bench-m${d}`,
      kwhConsumedAc: 0.1,
      voltage: 230,
      timestamp: new Date(end - (MINUTES - m) * 60_000).toISOString(),
    });
  }
}
const putStarted = performance.now();
for (let i = 0; i < readings.length; i += 30_000) await sink.put('meter', readings.slice(i, i + 30_000));
const putSeconds = (performance.now() - putStarted) / 1000;

const config = loadConfig({
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: 'warn',
  ADMIN_API_KEY: 'bench-admin-key-0123456789abcdef0123456789',
  KINESIS_STREAMS: 'bench-meter:meter',
  AWS_ENDPOINT_URL_KINESIS: emulator.endpoint,
  AWS_REGION: EMULATOR_REGION,
  KINESIS_POLL_INTERVAL_MS: '200',
  KINESIS_MAX_RECORDS: '1000',
});
const service = await startService(config, createLogger('warn'), { inMemory: true, runJobs: false });
const db = service.dbHandle.db;
const stored = async () =>
  Number(
    (
      await db
        .selectFrom('meter_telemetry_history')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
const drainStarted = performance.now();
while ((await stored()) < readings.length) await new Promise((done) => setTimeout(done, 50));
const drainSeconds = (performance.now() - drainStarted) / 1000;

// 2. Lag: one reading a record, put one at a time, until the API shows it.
const lags: number[] = [];
for (let i = 0; i < LAG_SAMPLES; i += 1) {
  const meterId = `lag-m${i}`;
  const started = performance.now();
  await sink.put('meter', [{ meterId, kwhConsumedAc: 0.1, voltage: 230, timestamp: new Date().toISOString() }]);
  for (;;) {
    const res = await fetch(`${service.url}/v1/meters/${meterId}/live`, {
      headers: { authorization: `Bearer ${config.auth.adminApiKey}` },
    });
    if (res.status === 200) break;
    await new Promise((done) => setTimeout(done, 5));
  }
  lags.push(performance.now() - started);
  await new Promise((done) => setTimeout(done, 100 + Math.random() * 200));
}

await service.stop();
await emulator.stop();

const lines = [
  `Stream ingestion (kinesis-local, 2 shards, records of ${READINGS_PER_RECORD} readings, KINESIS_MAX_RECORDS=1000, poll 200 ms)`,
  `backlog put:   ${readings.length} readings in ${putSeconds.toFixed(1)} s (${Math.round(readings.length / putSeconds)} readings/s into the emulator)`,
  `drain:         ${readings.length} readings stored in ${drainSeconds.toFixed(1)} s = ${Math.round(readings.length / drainSeconds)} readings/s (consumer start included)`,
  `lag put->API:  p50 ${percentile(lags, 50).toFixed(0)} ms, p90 ${percentile(lags, 90).toFixed(0)} ms, max ${Math.max(...lags).toFixed(0)} ms (${LAG_SAMPLES} single-reading records)`,
];
process.stdout.write(`${lines.join('\n')}\n`);
