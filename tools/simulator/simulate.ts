/**
 * Fleet simulator CLI: `npm run simulate -- --vehicles 100 --backfill 24h`.
 * Maps N vehicles to N meters through the API, then sends realistic charging telemetry:
 * a backfill as fast as the service takes it, or live on the wall clock (--speed N).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { ADMIN_KEY_FILE } from '../../src/auth/admin-key.js';
import { createKinesisClient } from '../../src/streams/kinesis-client.js';
import { parseDuration } from './duration.js';
import { ENERGY_FORMS } from './fleet-model.js';
import { KinesisSink } from './kinesis-sink.js';
import { OcppSink, SIM_PROTOCOLS } from './ocpp-sink.js';
import { runSimulation, type SimulationStats } from './simulation.js';

const USAGE = `Usage: npm run simulate -- [options]
  --url URL             service base URL (default http://127.0.0.1:3000)
  --api-key KEY         a key with the ingest and admin scopes (default: $API_KEY, else the
                        admin key the embedded service generated in ./data/admin-api-key)
  --vehicles N          vehicles, each with its own meter (default 100)
  --seed N              random seed: same seed, same fleet and readings (default 1)
  --faulty-share F      share of vehicles with efficiency below 0.85 (default 0.1)
  --energy FORM         interval (energy since the previous reading, default) or register
                        (running totals: meters reboot about weekly, half the vehicles
                        restart their register at each plug-in)
  --backfill DURATION   send this much history (e.g. 24h, 90m, 2d) as fast as possible, then exit
  --batch N             readings per request when backfilling (default 1000)
  --speed N             live mode: simulated minutes per real minute (default 1)
  --duration DURATION   live mode: stop after this long (default: run until Ctrl-C)
  --concurrency N       requests in flight (default 8)
  --sink http|kinesis|ocpp  where meter readings go (default http); with kinesis the vehicle
                        readings too, mappings go through the API; with ocpp each meter is a
                        charging station (OCPP 1.6J, ws://…/ocpp on --url's port) whose
                        transactions assign the vehicles (id tokens set through the API),
                        registers implied, vehicle readings over HTTP
  --ocpp-version V      with --sink ocpp: 1.6 (default: StartTransaction, StopTransaction) or
                        2.0.1 (TransactionEvent Started, Updated, Ended)
  --meter-stream NAME   with --sink kinesis: the meter readings' stream (default ev-meter-readings)
  --vehicle-stream NAME with --sink kinesis: the vehicle readings' stream (default ev-vehicle-readings)
  --kinesis-endpoint URL  with --sink kinesis: an emulator (default: $AWS_ENDPOINT_URL_KINESIS, else AWS)
  --record-readings N   with --sink kinesis: readings per record at most (default 1; backfill: up to 100)`;

/** The key `npm start` generated on first start, so the quick start needs no setup. */
function readGeneratedAdminKey(): string {
  const file = join(process.env.DATA_DIR ?? './data', ADMIN_KEY_FILE);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    throw new Error(`no API key: pass --api-key, set API_KEY, or start the service once so that ${file} exists`);
  }
}

function positive(name: string, text: string, integer = true): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got "${text}"`);
  }
  return value;
}

function line(stats: SimulationStats): string {
  const rate = stats.sent / Math.max(stats.elapsedMs / 1000, 0.001);
  return `sent ${stats.sent}  accepted ${stats.accepted}  duplicates ${stats.duplicates}  errors ${stats.errors}  ${Math.round(rate)} readings/s`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:3000' },
      'api-key': { type: 'string' },
      vehicles: { type: 'string', default: '100' },
      seed: { type: 'string', default: '1' },
      'faulty-share': { type: 'string', default: '0.1' },
      energy: { type: 'string', default: 'interval' },
      backfill: { type: 'string' },
      batch: { type: 'string', default: '1000' },
      speed: { type: 'string', default: '1' },
      duration: { type: 'string' },
      concurrency: { type: 'string', default: '8' },
      sink: { type: 'string', default: 'http' },
      'meter-stream': { type: 'string', default: 'ev-meter-readings' },
      'vehicle-stream': { type: 'string', default: 'ev-vehicle-readings' },
      'kinesis-endpoint': { type: 'string' },
      'record-readings': { type: 'string' },
      'ocpp-version': { type: 'string', default: '1.6' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const faultyShare = Number(values['faulty-share']);
  if (!(faultyShare >= 0 && faultyShare <= 1)) throw new Error('--faulty-share must be between 0 and 1');
  const energyForm = ENERGY_FORMS.find((form) => form === values.energy);
  if (!energyForm) throw new Error(`--energy must be one of ${ENERGY_FORMS.join(', ')}`);
  if (values.sink !== 'http' && values.sink !== 'kinesis' && values.sink !== 'ocpp')
    throw new Error('--sink must be http, kinesis or ocpp');
  const kinesisClient =
    values.sink === 'kinesis'
      ? createKinesisClient({
          region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
          endpoint: values['kinesis-endpoint'] ?? process.env.AWS_ENDPOINT_URL_KINESIS ?? process.env.AWS_ENDPOINT_URL,
        })
      : undefined;
  const kinesis = kinesisClient
    ? new KinesisSink({
        client: kinesisClient,
        meterStream: values['meter-stream'],
        vehicleStream: values['vehicle-stream'],
        readingsPerRecord: positive(
          'record-readings',
          values['record-readings'] ?? (values.backfill === undefined ? '1' : '100'),
        ),
      })
    : undefined;
  // A backfill sends a station's queued minutes in one MeterValues, as a station back online does.
  const protocol = SIM_PROTOCOLS.find((p) => p === `ocpp${values['ocpp-version']}`);
  if (!protocol) throw new Error('--ocpp-version must be 1.6 or 2.0.1');
  const ocpp =
    values.sink === 'ocpp'
      ? new OcppSink({ url: values.url, valuesPerCall: values.backfill === undefined ? 1 : 60, protocol })
      : undefined;
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const interactive = process.stderr.isTTY;
  const stats = await runSimulation({
    url: values.url,
    apiKey: values['api-key'] ?? process.env.API_KEY ?? readGeneratedAdminKey(),
    vehicles: positive('vehicles', values.vehicles),
    seed: Number(values.seed),
    faultyShare,
    energyForm,
    backfillMs: values.backfill === undefined ? undefined : parseDuration(values.backfill),
    speed: positive('speed', values.speed, false),
    durationMs: values.duration === undefined ? undefined : parseDuration(values.duration),
    batch: Math.min(5000, positive('batch', values.batch)),
    concurrency: positive('concurrency', values.concurrency),
    ...(kinesis ? { kinesis } : {}),
    ...(ocpp ? { ocpp } : {}),
    signal: controller.signal,
    onProgress: (s) => process.stderr.write(interactive ? `\r${line(s)}   ` : `${line(s)}\n`),
  });
  kinesisClient?.destroy();
  if (interactive) process.stderr.write('\n');
  process.stdout.write(
    [
      `done in ${(stats.elapsedMs / 1000).toFixed(1)} s (${stats.requests} requests)`,
      line(stats),
      `faulty vehicles (efficiency < 0.85 by construction): ${stats.faultyVehicles.join(', ') || 'none'}`,
    ].join('\n') + '\n',
  );
  if (stats.errors > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
  process.exit(2);
});
