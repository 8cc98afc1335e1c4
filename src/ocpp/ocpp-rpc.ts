import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

import ocppRpc from 'ocpp-rpc';

/**
 * The narrow part of ocpp-rpc the service uses, typed. The package is CommonJS (its named
 * exports are not all visible to ESM, hence the default import) and its declarations lean on
 * `any` and on the `ws` types, which are not installed: everything the rest of src/ocpp sees
 * goes through the types below, and call parameters arrive as `unknown` (strict mode has
 * checked them against the official schema before a handler runs).
 */

export const OCPP_PROTOCOLS = ['ocpp1.6', 'ocpp2.0.1'] as const;
export type OcppProtocol = (typeof OCPP_PROTOCOLS)[number];

export function isOcppProtocol(value: string | undefined): value is OcppProtocol {
  return (OCPP_PROTOCOLS as readonly (string | undefined)[]).includes(value);
}

/** The CALLERROR codes of OCPP-J (1.6 §4.2.3, 2.0.1 §4.3) the service answers itself. */
export type OcppErrorCode =
  | 'NotImplemented'
  | 'NotSupported'
  | 'InternalError'
  | 'PropertyConstraintViolation'
  | 'OccurrenceConstraintViolation'
  | 'FormationViolation'
  | 'GenericError';

/** A CALLERROR to answer: throw it from a handler. */
export function ocppError(code: OcppErrorCode, message: string): Error {
  // Typed as a plain record by the package; it is one of its RPCError classes.
  const error: unknown = ocppRpc.createRPCError(code, message, {});
  return error instanceof Error ? error : new Error(message);
}

/** The OCPP error code of something thrown, if it is one (ocpp-rpc's errors carry it). */
export function ocppErrorCodeOf(error: unknown): string | undefined {
  return error instanceof ocppRpc.RPCError ? error.rpcErrorCode : undefined;
}

export interface UpgradeHandshake {
  /** The last path segment, URL-decoded: the charge point id. */
  identity: string;
  /** The Basic-auth password, when the user name is the identity. */
  password: Buffer | undefined;
  protocols: ReadonlySet<string>;
}

export type CallHandler = (params: unknown) => Promise<object>;

/** One connected station, as the handlers see it. */
export interface StationSocket {
  readonly identity: string;
  readonly protocol: OcppProtocol;
  handle(method: string, handler: CallHandler): void;
  /** Every call answered: `outcome` is `ok` or the CALLERROR code sent. */
  onAnswered(listener: (action: string, outcome: string) => void): void;
  onClose(listener: () => void): void;
  /** Closes once the calls in flight are answered. */
  close(): Promise<void>;
}

export interface UpgradeDecision {
  accept(protocol: OcppProtocol): void;
  reject(status: number, message: string): void;
}

export interface OcppRpcServer {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): Promise<void>;
}

interface Options {
  callTimeoutMs: number;
  pingIntervalMs: number;
  authenticate(handshake: UpgradeHandshake, decision: UpgradeDecision): Promise<void>;
  connected(station: StationSocket): void;
  /** Something ocpp-rpc could not make sense of (frames that are not OCPP-J, server errors). */
  problem(kind: string, error: unknown): void;
}

/** An ocpp-rpc server in strict mode for both protocols, with no listener of its own. */
export function createRpcServer(options: Options): OcppRpcServer {
  const server = new ocppRpc.RPCServer({
    protocols: [...OCPP_PROTOCOLS],
    strictMode: true,
    callTimeoutMs: options.callTimeoutMs,
    pingIntervalMs: options.pingIntervalMs,
    // Details would carry stack traces; the code and message say what is wrong.
    respondWithDetailedErrors: false,
  });
  const stations = new Set<StationSocket>();
  server.on('error', (error: unknown) => options.problem('server', error));
  server.auth((accept, reject, handshake) => {
    const ours: UpgradeHandshake = {
      identity: handshake.identity,
      password: handshake.password,
      protocols: handshake.protocols,
    };
    options.authenticate(ours, { accept: (protocol) => accept({}, protocol), reject }).catch((error: unknown) => {
      options.problem('authentication', error);
      reject(500, 'Internal Server Error');
    });
  });
  server.on('client', (client: InstanceType<typeof ocppRpc.RPCClient>) => {
    const protocol = client.protocol;
    const identity = client.identity ?? '';
    if (!isOcppProtocol(protocol)) {
      // authenticate only accepts one of ours; anything else is a bug, not a station.
      void client.close({ code: 1002, reason: 'unsupported subprotocol' });
      return;
    }
    client.on('badMessage', ({ error }: { error: unknown }) => options.problem('badMessage', error));
    const station: StationSocket = {
      identity,
      protocol,
      handle: (method, handler) => client.handle(method, ({ params }) => handler(params as unknown)),
      onClose: (listener) => client.once('close', listener),
      onAnswered: (listener) => {
        client.on('callResult', ({ method }: { method: string }) => listener(method, 'ok'));
        client.on('callError', ({ method, error }: { method: string; error: unknown }) =>
          listener(method, ocppErrorCodeOf(error) ?? 'GenericError'),
        );
      },
      close: async () => {
        await client.close({ code: 1001, reason: 'server shutting down', awaitPending: true });
      },
    };
    stations.add(station);
    client.once('close', () => stations.delete(station));
    options.connected(station);
  });
  return {
    handleUpgrade: (request, socket, head) => void server.handleUpgrade(request, socket as never, head),
    // ocpp-rpc's own close does not wait for its clients: close each (answering what is in
    // flight) first.
    close: async () => {
      await Promise.all([...stations].map((station) => station.close()));
      await server.close({});
    },
  };
}
