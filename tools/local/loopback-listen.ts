import net from 'node:net';

/*
 * Preloaded (`node --import tsx --import ./tools/local/loopback-listen.ts ...`) into a server
 * that offers no choice of interface: kinesis-local 0.6.2 binds "0.0.0.0", fixed in its build
 * (its ember server gets `Host.fromString("0.0.0.0")` and, for a wildcard, calls
 * `server.listen(port)`), and no variable changes that. Every listen without a host or on a
 * wildcard address binds LOCAL_BIND_HOST (default 127.0.0.1) instead, so a stand-in with no
 * authentication is not reachable from the network.
 */
const host = process.env.LOCAL_BIND_HOST || '127.0.0.1';
const WILDCARDS = new Set(['', '0.0.0.0', '::']);
// eslint-disable-next-line @typescript-eslint/unbound-method -- called with its server as `this` below
const listen = net.Server.prototype.listen;

function onLoopback(args: unknown[]): unknown[] {
  const [first, second] = args;
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (typeof second === 'string' && !WILDCARDS.has(second)) return args;
    return [first, host, ...args.slice(typeof second === 'string' ? 2 : 1)];
  }
  if (typeof first === 'object' && first !== null && 'port' in first) {
    const options = first as net.ListenOptions;
    if (options.host === undefined || WILDCARDS.has(options.host)) return [{ ...options, host }, ...args.slice(1)];
  }
  return args; // a path (Unix socket) or a handle: not a network interface
}

net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
  return (listen as (...a: unknown[]) => net.Server).apply(this, onLoopback(args));
} as typeof listen;
