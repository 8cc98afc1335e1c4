import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** The admin key spawned services get (never used outside tests and benchmarks). */
export const SPAWNED_ADMIN_KEY = 'bench-admin-key-0123456789abcdef0123456789';
export const adminHeaders = { authorization: `Bearer ${SPAWNED_ADMIN_KEY}`, 'content-type': 'application/json' };

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  /** Process id of the embedded database's process (when embedded). */
  databasePid: number | undefined;
  output(): string;
  exited: Promise<number | null>;
}

/** Runs the service as `npm start` does, in its own process, and waits until it listens. */
export function spawnService(env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ADMIN_API_KEY: SPAWNED_ADMIN_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  let listening = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${output}`)), 90_000);
    const onData = (chunk: Buffer) => {
      // Keep the tail only: at info level the service logs a line per request.
      output = (output + chunk.toString()).slice(-256 * 1024);
      if (listening) return;
      const match = /"msg":"listening","url":"([^"]+)"/.exec(output);
      if (!match) return;
      listening = true;
      clearTimeout(timer);
      const dbPid = /"msg":"embedded TimescaleDB started".*?"pid":(\d+)/.exec(output)?.[1];
      resolve({ child, url: match[1]!, databasePid: dbPid ? Number(dbPid) : undefined, output: () => output, exited });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      if (!listening) reject(new Error(`service exited with ${code} before listening:\n${output}`));
    });
  });
}
