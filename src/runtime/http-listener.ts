import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ListenOptions {
  port: number;
  host: string;
  /** node:http's own limits (the API sets them from config.http; left at node's defaults otherwise). */
  timeouts?: { keepAliveTimeoutMs: number; headersTimeoutMs: number; requestTimeoutMs: number };
  /** Called with the server before it listens (the API attaches its OCPP WebSocket upgrades). */
  beforeListen?: (server: Server) => void;
}

export interface HttpListener {
  /** Base URL to reach the listener: loopback when it is bound to every interface. */
  url: string;
  /**
   * Stops accepting, closes idle keep-alive connections (again every 100 ms, as requests end),
   * lets in-flight requests finish and cuts whatever is still open after `graceMs`.
   */
  close(graceMs: number): Promise<void>;
}

/** HOST=0.0.0.0 or :: (the default): bound to every interface, reached through loopback. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/** The one HTTP listener of the API and the consumer process. */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  options: ListenOptions,
): Promise<HttpListener> {
  const server: Server = createServer(handler);
  if (options.timeouts) {
    server.keepAliveTimeout = options.timeouts.keepAliveTimeoutMs;
    server.headersTimeout = options.timeouts.headersTimeoutMs;
    server.requestTimeout = options.timeouts.requestTimeoutMs;
  }
  options.beforeListen?.(server);
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolveListen());
  });
  const address = server.address() as AddressInfo;
  const host = isWildcardHost(options.host) ? '127.0.0.1' : options.host;
  const close = async (graceMs: number) => {
    // No grace (the consumer process, whose work has already stopped): every connection is cut now.
    if (graceMs <= 0) server.closeAllConnections();
    const closed = new Promise<void>((done) => server.close(() => done()));
    server.closeIdleConnections();
    const idleSweep = setInterval(() => server.closeIdleConnections(), 100);
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    await closed;
    clearInterval(idleSweep);
    clearTimeout(force);
  };
  return { url: `http://${host}:${address.port}`, close };
}
