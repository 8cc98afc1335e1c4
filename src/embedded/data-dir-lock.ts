import { mkdir, open, realpath, stat, unlink } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { isAbsolute, join, relative } from 'node:path';

import { SECOND_MS } from '../time.js';

/** The lock's name inside the data folder: a Unix-domain socket. */
export const LOCK_NAME = 'ev-telemetry.lock';

/** Who holds a data folder: what a process that finds it locked is told. */
export interface LockOwner {
  pid: number;
  command: string;
  /** When the holding process started (ISO 8601). */
  since: string;
  dataDir: string;
  /** Set when the embedded database process answered: the owner's database child. */
  databasePid?: number;
  /** False when the owner is gone and only its database process is left, closing the folder. */
  ownerAlive?: boolean;
}

export class DataDirInUseError extends Error {
  /** `owner` undefined: the holder did not answer (its process is busy or stopped). */
  constructor(
    readonly dataDir: string,
    readonly owner: LockOwner | undefined,
  ) {
    const who = owner && `process ${owner.pid} (${owner.command}, running since ${owner.since})`;
    super(
      owner === undefined
        ? `The data folder ${dataDir} is in use by a process that does not answer (busy or stopped): ` +
            `find it with \`fuser ${join(dataDir, LOCK_NAME)}\` or \`lsof ${join(dataDir, LOCK_NAME)}\`.`
        : owner.ownerAlive === false
          ? `The data folder ${dataDir} is still in use: the embedded database process ${owner.databasePid} ` +
            `of ${who}, which has exited, is closing it. Try again in a few seconds.`
          : `The data folder ${dataDir} is in use by ${who}. The embedded database serves one process at a ` +
            `time: stop that one first (or give this one another DATA_DIR, or a DATABASE_URL).`,
    );
  }
}

export interface DataDirLock {
  /** The listening socket that is the lock: the embedded database process gets a copy. */
  readonly server: Server;
  readonly owner: LockOwner;
  /** Frees the folder (and removes the socket file). Only once the database process has exited. */
  release(): Promise<void>;
}

/** Longest a holder may take to say who it is. */
const ANSWER_TIMEOUT_MS = 2 * SECOND_MS;
/** A takeover guard older than this was left by a process that died in the middle of one. */
const STALE_GUARD_MS = 10 * SECOND_MS;
/** How long to wait for the database process of a dead owner to finish closing the folder. */
const ORPHAN_WAIT_MS = 20 * SECOND_MS;
const RETRY_MS = 100;
/** sun_path holds 104 bytes on macOS (108 on Linux), the terminating NUL included. */
const MAX_SOCKET_PATH = 103;

/**
 * Takes the exclusive lock on an embedded data folder, or throws DataDirInUseError naming the
 * process that holds it. Nothing in the folder is read or written before (the folder is
 * created when missing).
 *
 * The lock is a Unix-domain socket listening at `<dataDir>/ev-telemetry.lock`. Binding is
 * atomic (it fails while the file exists), and whether the holder lives is the kernel's
 * answer, not a guess from a pid: a connect() reaches a live holder, which says who it is, and
 * is refused once every process holding the socket is gone, however it died (SIGKILL
 * included). Such a stale file is then removed and bound again, under a short-lived
 * O_EXCL guard so that two processes starting at once cannot both take over. The embedded
 * database process gets a copy of the socket, so the folder stays locked until it, too, has
 * closed the files, even when its parent was killed.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  await mkdir(dataDir, { recursive: true });
  const dir = await realpath(dataDir);
  const file = join(dir, LOCK_NAME);
  const address = socketAddress(file);
  const owner: LockOwner = {
    pid: process.pid,
    command: commandLine(),
    since: new Date(Date.now() - process.uptime() * SECOND_MS).toISOString(),
    dataDir: dir,
  };
  const deadline = Date.now() + ORPHAN_WAIT_MS;
  for (;;) {
    const server = await bind(address);
    if (server) return held(server, owner);
    const holder = await probe(address);
    if (holder === 'gone') {
      const taken = await takeOver(file, address);
      if (taken) return held(taken, owner);
    } else if (holder === 'silent' || holder === 'retry') {
      if (Date.now() > deadline) throw new DataDirInUseError(dir, undefined);
    } else {
      // A dead owner's database process is closing the folder: it will be free shortly.
      if (holder.ownerAlive !== false || Date.now() > deadline) throw new DataDirInUseError(dir, holder);
    }
    await sleep(RETRY_MS);
  }
}

/** Answers every connection with the owner: how a refused process learns who holds the folder. */
export function answerWith(server: Server, owner: () => LockOwner): void {
  server.on('connection', (socket: Socket) => {
    socket.on('error', () => undefined);
    socket.end(JSON.stringify(owner()));
  });
}

function held(server: Server, owner: LockOwner): DataDirLock {
  answerWith(server, () => owner);
  // The lock must not keep a process alive that has nothing else to do.
  server.unref();
  return {
    server,
    owner,
    release: () => new Promise((done) => server.close(() => done())),
  };
}

function bind(address: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve(undefined);
      else reject(error);
    });
    server.listen(address, () => resolve(server));
  });
}

/**
 * Connects to the lock: the holder's answer; 'gone' (a stale file: nobody listens); 'silent'
 * (someone listens but does not answer); 'retry' (no file any more, or the holder died while
 * answering: the next round finds the file stale or a new holder).
 */
function probe(address: string): Promise<LockOwner | 'gone' | 'silent' | 'retry'> {
  return new Promise((resolve, reject) => {
    const socket = connect(address);
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('silent');
    }, ANSWER_TIMEOUT_MS);
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('end', () => {
      clearTimeout(timer);
      // Closed without a word: the holder died between accept and answer.
      if (text === '') return resolve('retry');
      try {
        resolve(JSON.parse(text) as LockOwner);
      } catch {
        reject(
          new Error(`${address} is held by a process that is not this service (it answered ${text.slice(0, 80)})`),
        );
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === 'ECONNREFUSED') resolve('gone');
      else if (error.code === 'ENOENT' || error.code === 'ECONNRESET' || error.code === 'EPIPE') resolve('retry');
      else reject(error);
    });
  });
}

/**
 * Removes a stale lock and binds in its place, under the guard file `<lock>.takeover` (created
 * O_EXCL): only the guard's holder unlinks, and binding cannot succeed while any file is at
 * the path, so a live lock is never removed. Undefined: another process was first.
 */
async function takeOver(file: string, address: string): Promise<Server | undefined> {
  const guard = `${file}.takeover`;
  let handle;
  try {
    handle = await open(guard, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const age = await stat(guard).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > STALE_GUARD_MS) await unlink(guard).catch(() => undefined);
    return undefined;
  }
  try {
    await handle.close();
    // Checked again under the guard: another process may have taken over meanwhile.
    if ((await probe(address)) !== 'gone') return undefined;
    await unlink(file).catch(() => undefined);
    return await bind(address);
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

/** The path to bind: absolute, or relative to the working directory when that is too long. */
function socketAddress(file: string): string {
  if (Buffer.byteLength(file) <= MAX_SOCKET_PATH) return file;
  const short = relative(process.cwd(), file);
  if (Buffer.byteLength(short) <= MAX_SOCKET_PATH) return short;
  throw new Error(
    `The data folder's path is too long for its lock socket (${file}, at most ${MAX_SOCKET_PATH} bytes): ` +
      'use a shorter DATA_DIR.',
  );
}

function commandLine(): string {
  const shown = (arg: string) => {
    const inside = isAbsolute(arg) ? relative(process.cwd(), arg) : '..';
    return inside === '' || inside.startsWith('..') ? arg : inside;
  };
  const text = [process.argv0, ...process.argv.slice(1).map(shown)].join(' ');
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
