import { connect, Socket } from 'node:net';

import type postgres from 'postgres';

/**
 * The postgres.js pool behind a DbHandle, which can be swapped for a fresh one.
 *
 * Why: postgres.js 3.4.9 can strand its only connection when the server dies under it while
 * reserves are waiting: every later query and reserve then waits in its queue for good (seen as
 * CONNECT_TIMEOUT / QUERY_TIMEOUT 503s forever on the embedded database, whose pool has one
 * connection, after about 1 in 6 of its restarts under write load). The likely path, from its
 * source: a reserve is both queued and the connecting connection's first query; a failed
 * connect rejects it without taking it out of the queue, and a connection that opens later can
 * be handed to that settled reserve and so to nobody. Nothing in the pool's public interface
 * can repair that, so the pool is
 * replaced when the server behind it was restarted (the embedded database's supervisor says so:
 * the old pool's sockets are dead anyway). Not on mere timeouts: on the embedded database a
 * long refresh legitimately holds the one connection while requests time out behind it.
 * The old pool is destroyed at once: what it still holds fails with CONNECTION_DESTROYED (a 503
 * for the request, nothing acknowledged), and a transaction on one of its connections is rolled
 * back by the server when the socket closes. Ending it is not enough on its own: a connection
 * of the old pool waiting to reconnect (postgres.js retries with a growing delay) reconnects
 * after it was terminated and then holds the embedded database's only session, idle, for good.
 * So a replaceable pool opens its sockets itself (postgres.js's `socket` option), and retiring a
 * pool destroys its sockets and refuses it new ones.
 *
 * States: serving (current pool) → retiring (old one refused sockets and destroyed, a new one
 * serving) → serving; ended (close(): every pool ended) is final.
 */
export class ReplaceablePool {
  private current: Generation;
  private ending: Promise<void> | undefined;
  /** Old pools still being destroyed: close() waits for them. */
  private readonly retiring = new Set<Promise<void>>();

  /**
   * `create` makes a pool; it passes `socket` on as postgres.js's `socket` option (TCP only,
   * one host: the embedded database) or leaves it out (a server: then sockets are its own, and
   * replace() only ends the old pool).
   */
  constructor(
    private readonly create: (socket: SocketFactory) => postgres.Sql,
    private readonly onReplaced: (reason: string) => void = () => undefined,
  ) {
    this.current = this.generation();
  }

  /** The pool to use now; take it per statement or per reserve, never keep it. */
  get sql(): postgres.Sql {
    return this.current.sql;
  }

  private generation(): Generation {
    const sockets = new Set<Socket>();
    const generation: Generation = {
      retired: false,
      sockets,
      // Returned before it connected, as net.Socket is when postgres.js opens its own: its
      // listeners see a refused connection as an error and a close, and reconnect as usual.
      sql: this.create(({ host, port }) => {
        if (generation.retired) {
          const refused = new Socket();
          setImmediate(() => refused.destroy(new Error('this database pool was replaced')));
          return refused;
        }
        const socket = connect(port[0]!, host[0]);
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        return socket;
      }),
    };
    return generation;
  }

  /** Swaps in a fresh pool and destroys the old one. */
  replace(reason: string): void {
    if (this.ending) return;
    const old = this.current;
    this.current = this.generation();
    old.retired = true;
    for (const socket of old.sockets) socket.destroy();
    const retired = old.sql.end({ timeout: 0 }).catch(() => undefined);
    this.retiring.add(retired);
    void retired.finally(() => this.retiring.delete(retired));
    this.onReplaced(reason);
  }

  /** Ends the pool (waiting at most `timeoutS` for running statements) and any being retired. */
  close(timeoutS: number): Promise<void> {
    this.ending ??= Promise.all([this.current.sql.end({ timeout: timeoutS }), ...this.retiring]).then(() => undefined);
    return this.ending;
  }
}

/** postgres.js's `socket` option: a socket connecting to the first host. */
export type SocketFactory = (options: { host: string[]; port: number[] }) => Socket;

interface Generation {
  sql: postgres.Sql;
  /** Replaced: no new sockets. */
  retired: boolean;
  sockets: Set<Socket>;
}
