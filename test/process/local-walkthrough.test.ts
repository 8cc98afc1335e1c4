import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import test, { type ExecutionContext } from 'ava';

import { createKinesisClient } from '../../src/streams/kinesis-client.js';
import { DAY_MS } from '../../src/time.js';
import { DEMO_DAYS, DEMO_METER, DEMO_STEP_MINUTES, DEMO_VEHICLE } from '../../tools/local/archive-demo-data.js';
import { freePort } from '../../tools/net/free-port.js';
import { waitFor } from '../helpers/streams.js';
import { embeddedOnly } from '../helpers/test-database.js';
import { startTestService } from '../helpers/test-service.js';

/*
 * The local walkthroughs, step by step, as a user runs them: docs/archive.md "Try it locally"
 * (npm run local:s3, local:archive-demo, archive -- run, archive -- query) and docs/streams.md
 * "Locally": the Kinesis stand-in (npm run local:kinesis), which must listen on loopback
 * only. The commands run as npm runs them (node with tsx), with free ports instead of the
 * documented defaults.
 */
const run = promisify(execFile);
const script = (path: string) => ['--import', 'tsx', path];

/** Starts a long-running tool and resolves once its output matches `ready`. */
async function startTool(t: ExecutionContext, path: string, env: Record<string, string>, ready: RegExp) {
  const child: ChildProcess = spawn(process.execPath, script(path), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });
  await waitFor(`${path} to start`, () => {
    if (child.exitCode !== null) throw new Error(`${path} exited: ${output}`);
    return ready.test(output);
  });
  return { child, output: () => output };
}

/** Whether a TCP connection to host:port is accepted. */
const accepts = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** This machine's addresses other than loopback: where a stand-in must not be reachable. */
const outsideAddresses = () =>
  Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal && !a.address.startsWith('fe80'))
    .map((a) => a!.address);

embeddedOnly('the walkthrough uses the embedded database in DATA_DIR')(
  'archive walkthrough: s3rver on loopback, demo data, archive run, query, analytics, restore',
  async (t) => {
    t.timeout(5 * 60_000);
    const dir = await mkdtemp(join(tmpdir(), 'ev-walkthrough-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const port = await freePort();
    const s3 = await startTool(
      t,
      'tools/local/run-s3.ts',
      { LOCAL_S3_PORT: String(port), LOCAL_S3_DIR: join(dir, 's3') },
      /Ctrl-C/,
    );
    // What local:s3 prints to export, then DATA_DIR as the walkthrough sets it.
    const exports = /export (.+)\n/.exec(s3.output())![1]!;
    const env: Record<string, string> = {
      ...process.env,
      ...Object.fromEntries(exports.split(' ').map((pair) => pair.split('=') as [string, string])),
      DATA_DIR: join(dir, 'data-demo'),
      LOG_LEVEL: 'warn',
    };
    t.is(env.AWS_ENDPOINT_URL_S3, `http://127.0.0.1:${port}`);
    for (const address of outsideAddresses()) t.false(await accepts(address, port), `s3rver not on ${address}`);

    const demo = await run(process.execPath, script('tools/local/archive-demo.ts'), { env });
    const written = JSON.parse(demo.stdout) as { meterReadings: number; from: string; to: string };
    const days = DEMO_DAYS.from - DEMO_DAYS.to;
    const perDay = DAY_MS / (DEMO_STEP_MINUTES * 60_000);
    t.is(written.meterReadings, days * perDay);

    const archived = await run(process.execPath, [...script('src/runtime/archive-cli.ts'), 'run'], { env });
    const report = JSON.parse(archived.stdout.trim().split('\n').at(-1)!) as { archived: number; failed: number };
    t.like(report, { archived: 2 * days, failed: 0 }, 'every demo day of both streams archived');

    const query = await run(
      process.execPath,
      [
        ...script('src/runtime/archive-cli.ts'),
        'query',
        '--stream',
        'meter',
        '--device',
        DEMO_METER,
        '--from',
        written.from,
        '--to',
        written.to,
      ],
      { env, maxBuffer: 64 * 1024 * 1024 },
    );
    const rows = query.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { meter_id: string; kwh_consumed_ac: number });
    t.is(rows.length, days * perDay, 'every archived reading comes back from the archive');
    t.true(rows.every((row) => row.meter_id === DEMO_METER && row.kwh_consumed_ac === 0.1));

    // The service on the demo database: the hourly analytics of the archived days stay exact.
    const svc = await startTestService({ DATA_DIR: env.DATA_DIR! });
    try {
      t.is((await svc.put(`/v1/vehicles/${DEMO_VEHICLE}/meter`, { meterId: DEMO_METER })).status, 200);
      const res = await svc.get(`/v1/analytics/performance/${DEMO_VEHICLE}?from=${written.from}&to=${written.to}`);
      t.is(res.status, 200, JSON.stringify(res.body));
      t.like(res.body, { readings: { meter: days * perDay, vehicle: days * perDay }, efficiencyRatio: 0.9 });
      t.true(Math.abs(res.body.acEnergyKwh - days * perDay * 0.1) < 1e-9, String(res.body.acEnergyKwh));
    } finally {
      await svc.stop();
    }

    // And back into the database, whole.
    const restored = await run(
      process.execPath,
      [...script('src/runtime/archive-cli.ts'), 'restore', '--from', written.from, '--to', written.to],
      { env },
    );
    const reports = restored.stdout
      .trim()
      .split('\n')
      .filter((line) => line.startsWith('{"stream"'))
      .map((line) => JSON.parse(line) as { stream: string; inserted: number });
    t.deepEqual(
      reports.map((r) => [r.stream, r.inserted]),
      [
        ['meter', days * perDay],
        ['vehicle', days * perDay],
      ],
    );
  },
);

test('Kinesis walkthrough: npm run local:kinesis listens on 127.0.0.1 only, with both streams', async (t) => {
  t.timeout(3 * 60_000);
  const plain = await freePort();
  const tls = await freePort();
  await startTool(
    t,
    'tools/local/run-kinesis.ts',
    { KINESIS_MOCK_PLAIN_PORT: String(plain), KINESIS_MOCK_TLS_PORT: String(tls) },
    /Ctrl-C/,
  );
  const client = createKinesisClient(
    { endpoint: `http://127.0.0.1:${plain}`, region: 'us-east-1' },
    { accessKeyId: 'local', secretAccessKey: 'local' },
  );
  t.teardown(() => client.destroy());
  let streams: string[] = [];
  await waitFor(
    'the streams',
    async () => {
      streams = (await client.send(new ListStreamsCommand({})).catch(() => ({ StreamNames: [] }))).StreamNames ?? [];
      return streams.length >= 2;
    },
    60_000,
  );
  t.deepEqual(streams.sort(), ['ev-meter-readings', 'ev-vehicle-readings']);
  t.true(await accepts('127.0.0.1', plain));
  const outside = outsideAddresses();
  if (outside.length === 0) t.log('this machine has no address besides loopback: only loopback was checked');
  for (const address of outside) {
    t.false(await accepts(address, plain), `not reachable on ${address}:${plain}`);
    t.false(await accepts(address, tls), `not reachable on ${address}:${tls}`);
  }
});
