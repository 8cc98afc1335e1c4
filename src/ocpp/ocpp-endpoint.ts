import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';

import type { Logger } from '../logger.js';
import type { OcppMetrics } from '../metrics/metrics.js';
import { verifyPassword } from './charge-point-password.js';
import { findPasswordHash, markConnected, markDisconnected } from './charge-point.repository.js';
import { CHARGE_POINT_ID } from './charge-point.schema.js';
import { ConnectionLeases } from './connection-lease.js';
import { createRpcServer, isOcppProtocol, ocppError, ocppErrorCodeOf, type StationSocket } from './ocpp-rpc.js';
import { ocpp16Handlers, type OcppHandlerDeps } from './ocpp16-handlers.js';
import { ocpp201Handlers } from './ocpp201-handlers.js';

export interface OcppDeps extends Omit<
  OcppHandlerDeps,
  'heartbeatIntervalSeconds' | 'countIgnored' | 'acceptUnknownIdTokens'
> {
  logger: Logger;
  metrics: OcppMetrics;
  heartbeatIntervalSeconds?: number;
  /** OCPP_ACCEPT_UNKNOWN_ID_TOKENS; off by default. */
  acceptUnknownIdTokens?: boolean;
  /** OCPP_CONNECTION_LEASE_MS: how long a connection counts as connected unless renewed. */
  connectionLeaseMs?: number;
}

export interface OcppEndpoint {
  /** Closes every station's socket once its calls in flight are answered (before the queue drains). */
  close(): Promise<void>;
}

/** What a booted station is told: a heartbeat every 5 minutes (OCPP's usual order of magnitude). */
export const DEFAULT_HEARTBEAT_INTERVAL_SECONDS = 300;
/** The default of OCPP_CONNECTION_LEASE_MS (src/config/config.ts). */
export const DEFAULT_CONNECTION_LEASE_MS = 60_000;
const CALL_TIMEOUT_MS = 30_000;
const PING_INTERVAL_MS = 30_000;
const PATH = /^\/ocpp\/([^/]+)$/;

/** Refuses an upgrade that is not for the OCPP endpoint, as a plain HTTP answer. */
function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * The OCPP-J endpoint, `ws://HOST:PORT/ocpp/{chargePointId}`, on the API's own server (its
 * `upgrade` requests; plain HTTP still goes to the app). A station authenticates with HTTP
 * Basic (user = its id, the password an admin set): unknown station or wrong password is a
 * 401 at the upgrade, a subprotocol other than ocpp1.6 / ocpp2.0.1 a 400. The password is
 * never logged; neither is the Authorization header.
 */
export function attachOcpp(server: Server, deps: OcppDeps): OcppEndpoint {
  const logger = deps.logger.child({ component: 'ocpp' });
  const handlerDeps: OcppHandlerDeps = {
    ...deps,
    heartbeatIntervalSeconds: deps.heartbeatIntervalSeconds ?? DEFAULT_HEARTBEAT_INTERVAL_SECONDS,
    acceptUnknownIdTokens: deps.acceptUnknownIdTokens ?? false,
    countIgnored: (samples) => deps.metrics.ignoredSamples.inc(samples),
  };
  const { metrics } = deps;
  const leases = new ConnectionLeases(deps.db, deps.connectionLeaseMs ?? DEFAULT_CONNECTION_LEASE_MS, logger);
  const rpc = createRpcServer({
    callTimeoutMs: CALL_TIMEOUT_MS,
    pingIntervalMs: PING_INTERVAL_MS,
    authenticate: async ({ identity, password, protocols }, decision) => {
      const protocol = [...protocols].find(isOcppProtocol);
      if (!protocol) {
        logger.info('ocpp upgrade refused: no supported subprotocol', { chargePointId: identity });
        metrics.upgradesRefused.inc({ reason: 'subprotocol' });
        decision.reject(400, 'Bad Request');
        return;
      }
      const known = CHARGE_POINT_ID.test(identity) ? await findPasswordHash(deps.db, identity) : undefined;
      if (!(await verifyPassword(password, known))) {
        logger.info('ocpp upgrade refused: unknown station or wrong password', { chargePointId: identity });
        metrics.upgradesRefused.inc({ reason: 'unauthorized' });
        decision.reject(401, 'Unauthorized');
        return;
      }
      decision.accept(protocol);
    },
    connected,
    problem: (kind, error) => logger.warn('ocpp problem', { kind, error: String(error) }),
  });

  const recording = new Set<Promise<void>>();
  function connected(station: StationSocket): void {
    const { identity, protocol } = station;
    const handlers =
      protocol === 'ocpp1.6' ? ocpp16Handlers(identity, handlerDeps) : ocpp201Handlers(identity, handlerDeps);
    logger.info('ocpp station connected', { chargePointId: identity, protocol });
    metrics.stationsConnected.inc({ protocol });
    // The action as a label only when the service implements it: stations choose the names.
    station.onAnswered((action, outcome) =>
      metrics.messages.inc({ protocol, action: Object.hasOwn(handlers, action) ? action : 'other', outcome }),
    );
    let closed = false;
    const connectedAt = markConnected(deps.db, identity, protocol, leases.leaseMs).then(
      (since) => {
        // Renewed while the socket is open; a close before the record leaves nothing to renew.
        const held = since === undefined || closed ? undefined : leases.hold(identity, since);
        return { since, held };
      },
      (error: unknown) => {
        logger.warn('ocpp: could not record a connection', { chargePointId: identity, error: String(error) });
        return { since: undefined, held: undefined };
      },
    );
    station.onClose(() => {
      closed = true;
      logger.info('ocpp station disconnected', { chargePointId: identity });
      metrics.stationsConnected.dec({ protocol });
      const recorded = connectedAt.then(async ({ since, held }) => {
        if (held) leases.release(held);
        if (since === undefined) return;
        await markDisconnected(deps.db, identity, since).catch((error: unknown) =>
          logger.warn('ocpp: could not record a disconnection', { chargePointId: identity, error: String(error) }),
        );
      });
      // Awaited by close(): written before the database closes at shutdown.
      recording.add(recorded);
      void recorded.finally(() => recording.delete(recorded));
    });
    for (const [action, handler] of Object.entries(handlers)) {
      station.handle(action, async (params) => {
        try {
          return await handler(params);
        } catch (error) {
          if (ocppErrorCodeOf(error) !== undefined) throw error;
          // A failure of ours (the database): the station keeps the message and resends it.
          logger.error('ocpp call failed', { chargePointId: identity, action, error: String(error) });
          throw ocppError('InternalError', 'The call could not be processed; send it again later.');
        }
      });
    }
  }

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (!PATH.test(pathname)) {
      metrics.upgradesRefused.inc({ reason: 'path' });
      refuse(socket, 404, 'Not Found');
      return;
    }
    rpc.handleUpgrade(request, socket, head);
  });

  return {
    close: async () => {
      await rpc.close();
      await Promise.all([...recording]);
      await leases.stop();
    },
  };
}
