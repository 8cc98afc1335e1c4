import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PACKAGE_DIR = fileURLToPath(new URL('../../node_modules/kinesis-local/', import.meta.url));
const PRELOAD = fileURLToPath(new URL('./loopback-listen.ts', import.meta.url));

/**
 * kinesis-local (kinesis-mock compiled to JavaScript, a dev dependency) in a child process,
 * bound to 127.0.0.1 by the loopback-listen preload (it has no setting of its own for that),
 * run from its package folder, where its TLS certificate (server.json) is looked up. `env`
 * holds its own variables (KINESIS_MOCK_PLAIN_PORT, INITIALIZE_STREAMS, ...; its README).
 */
export function spawnKinesisLocal(env: Record<string, string>, stdio: 'pipe' | 'inherit' = 'pipe'): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', '--import', PRELOAD, 'main.js'], {
    cwd: PACKAGE_DIR,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', stdio, stdio],
  });
}
