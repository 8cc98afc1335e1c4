import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { freePort } from '../../tools/net/free-port.js';

const MAIN = fileURLToPath(new URL('../../src/runtime/main.ts', import.meta.url));
// Generous: on a loaded 2-core machine a spawned service with its database takes over a minute.
const START_TIMEOUT_MS = 180_000;
const OUTPUT_TAIL_BYTES = 256 * 1024;

/** The admin key spawned services get (never used outside tests and benchmarks). */
export const SPAWNED_ADMIN_KEY = 'bench-admin-key-0123456789abcdef0123456789';
export const adminHeaders = { authorization: `Bearer ${SPAWNED_ADMIN_KEY}`, 'content-type': 'application/json' };

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  /** Process id of the embedded database's process (when embedded). */
  databasePid: number | undefined;
  /** The last 256 KiB the service printed. */
  output(): string;
  exited: Promise<number | null>;
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Runs the service as `npm start` does, in its own process, and resolves once /healthz
 * answers. Readiness does not depend on the logs, so any LOG_LEVEL works.
 */
export function spawnService(env: Record<string, string>): Promise<ServiceProcess> {
  return spawnScript(MAIN, env);
}

/**
 * Runs a TypeScript file (the service's entry, or the bench's HTTP floor) in its own process
 * on a free port, and resolves once it answers /healthz.
 */
export async function spawnScript(script: string, env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ADMIN_API_KEY: SPAWNED_ADMIN_KEY,
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Never outlive the test or benchmark that started it, even when that one is cut short.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((done) =>
    child.once('exit', (code) => {
      exitCode = code;
      process.off('exit', killOnExit);
      done(code);
    }),
  );

  const chunks: string[] = [];
  let size = 0;
  const keep = (chunk: Buffer) => {
    chunks.push(chunk.toString());
    size += chunk.length;
    while (size > OUTPUT_TAIL_BYTES && chunks.length > 1) size -= chunks.shift()!.length;
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const output = () => chunks.join('');

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exitCode !== undefined) throw new Error(`service exited with ${exitCode} before listening:\n${output()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`service did not start:\n${output()}`);
    }
    const healthy = await fetch(`${url}/healthz`).then(
      (res) => res.ok,
      () => false,
    );
    if (healthy) break;
    await new Promise((done) => setTimeout(done, 100));
  }
  return { child, url, databasePid: childPids(child.pid!)[0], output, exited };
}

/** Stops a spawned service and fails when it did not shut down cleanly. */
export async function stopService(service: ServiceProcess): Promise<void> {
  service.child.kill('SIGTERM');
  const code = await service.exited;
  if (code !== 0) throw new Error(`service exited with ${code}:\n${service.output().slice(-2000)}`);
}
