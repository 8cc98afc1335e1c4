import { spawnKinesisLocal } from './kinesis-local.js';

/*
 * `npm run local:kinesis`: the local Kinesis stand-in on 127.0.0.1 (docs/streams.md,
 * "Locally"), with the service's two streams created on start. Its variables pass through
 * (KINESIS_MOCK_PLAIN_PORT, KINESIS_MOCK_TLS_PORT, INITIALIZE_STREAMS, LOG_LEVEL, ...).
 */
/** kinesis-mock's own variables besides KINESIS_MOCK_* (its README). */
const KNOWN = new Set([
  'INITIALIZE_STREAMS',
  'LOG_LEVEL',
  'ROOT_LOG_LEVEL',
  'SHOULD_PERSIST_DATA',
  'PERSIST_PATH',
  'PERSIST_FILE_NAME',
  'PERSIST_INTERVAL',
  'LOAD_DATA_IF_EXISTS',
  'CREATE_STREAM_DURATION',
  'SHARD_LIMIT',
  'AWS_ACCOUNT_ID',
  'AWS_REGION',
]);
const env: Record<string, string> = {
  KINESIS_MOCK_PLAIN_PORT: '4568',
  KINESIS_MOCK_TLS_PORT: '4567',
  INITIALIZE_STREAMS: 'ev-meter-readings:2,ev-vehicle-readings:2',
  LOG_LEVEL: 'WARN',
};
for (const [name, value] of Object.entries(process.env)) {
  if (value !== undefined && (/^(KINESIS_MOCK_|LOCAL_BIND_HOST$)/.test(name) || KNOWN.has(name))) env[name] = value;
}
const child = spawnKinesisLocal(env, 'inherit');
process.stdout.write(
  `kinesis-local on http://127.0.0.1:${env.KINESIS_MOCK_PLAIN_PORT} (loopback only; TLS on ${env.KINESIS_MOCK_TLS_PORT}), ` +
    `streams ${env.INITIALIZE_STREAMS}. Ctrl-C stops it.\n`,
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
