import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logger.js';
import { startService, type RunningService, type StartOptions } from '../../src/runtime/api-process.js';
import { fileDatabaseUrl, onBeforeDrop, serverUnderTest } from './test-database.js';

export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdef0123456789';

export interface TestService extends RunningService {
  /** JSON requests with the admin key unless `headers` say otherwise. */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<TestResponse>;
  put(path: string, body: unknown, headers?: Record<string, string>): Promise<TestResponse>;
  patch(path: string, body: unknown, headers?: Record<string, string>): Promise<TestResponse>;
  get(path: string, headers?: Record<string, string>): Promise<TestResponse>;
  delete(path: string, headers?: Record<string, string>): Promise<TestResponse>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  // Tests read whatever JSON came back and assert on its values.
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function call(url: string, init: RequestInit): Promise<TestResponse> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body };
}

const running = new Set<RunningService>();
// Against a server, the file's database is dropped after the file: stop what still runs on it first.
onBeforeDrop(async () => {
  await Promise.all([...running].map((service) => service.stop()));
});

/**
 * A real service listening on a free port. Embedded (the default): its own TimescaleDB, in
 * memory unless `env.DATA_DIR` is given, to restart on the same data. With TEST_DATABASE_URL:
 * this test file's database on that server (test-database.ts), which outlives a restart the
 * same way. The service's job scheduler never runs on its own in tests: embedded, tests run
 * the jobs when they mean to; on a server, its background workers run them on their schedule
 * (as in production), which the analytics must not notice.
 */
export async function startTestService(
  env: Record<string, string> = {},
  options: Pick<StartOptions, 'replicaProbe'> = {},
): Promise<TestService> {
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    ...(serverUnderTest ? { DATABASE_URL: await fileDatabaseUrl() } : {}),
    ...env,
  });
  const inMemory = env.DATA_DIR === undefined;
  const service = await startService(config, createLogger(config.logLevel), { ...options, inMemory, runJobs: false });
  running.add(service);
  const stop = service.stop.bind(service);
  service.stop = async () => {
    await stop();
    running.delete(service);
  };
  const auth = { authorization: `Bearer ${TEST_ADMIN_KEY}` };
  const json = (method: string, path: string, body: unknown, headers: Record<string, string> = auth) =>
    call(service.url + path, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  return {
    ...service,
    post: (path, body, headers) => json('POST', path, body, headers),
    put: (path, body, headers) => json('PUT', path, body, headers),
    patch: (path, body, headers) => json('PATCH', path, body, headers),
    get: (path, headers = auth) => call(service.url + path, { method: 'GET', headers }),
    delete: (path, headers = auth) => call(service.url + path, { method: 'DELETE', headers }),
  };
}

export const minutesAgo = (minutes: number, from = Date.now()) => new Date(from - minutes * 60_000);

export function meterReading(meterId: string, at: Date, kwh = 1, voltage = 230) {
  return { meterId, kwhConsumedAc: kwh, voltage, timestamp: at.toISOString() };
}

export function vehicleReading(vehicleId: string, at: Date, kwh = 0.9, soc = 50, batteryTemp = 30) {
  return { vehicleId, soc, kwhDeliveredDc: kwh, batteryTemp, timestamp: at.toISOString() };
}
