import { BlockList, isIP } from 'node:net';

/**
 * Where a webhook may send (docs/webhooks.md, "Safety"). `public`: anywhere; `private`: loopback
 * and private networks, only with WEBHOOK_ALLOW_INSECURE_TARGETS (a test receiver, a service on
 * the same network); `forbidden`: never, whatever the setting: link-local (the cloud metadata
 * service at 169.254.169.254 lives there), unspecified (0.0.0.0 and :: reach the local host),
 * multicast and broadcast.
 */
export type AddressClass = 'public' | 'private' | 'forbidden';

const forbidden = new BlockList();
forbidden.addSubnet('0.0.0.0', 8, 'ipv4');
forbidden.addSubnet('169.254.0.0', 16, 'ipv4');
forbidden.addSubnet('224.0.0.0', 4, 'ipv4'); // multicast
forbidden.addSubnet('240.0.0.0', 4, 'ipv4'); // reserved, with the broadcast address
forbidden.addAddress('::', 'ipv6');
forbidden.addSubnet('fe80::', 10, 'ipv6');
forbidden.addSubnet('ff00::', 8, 'ipv6'); // multicast

const privateNets = new BlockList();
privateNets.addSubnet('10.0.0.0', 8, 'ipv4');
privateNets.addSubnet('172.16.0.0', 12, 'ipv4');
privateNets.addSubnet('192.168.0.0', 16, 'ipv4');
privateNets.addSubnet('127.0.0.0', 8, 'ipv4');
privateNets.addSubnet('100.64.0.0', 10, 'ipv4'); // carrier-grade NAT
privateNets.addAddress('::1', 'ipv6');
privateNets.addSubnet('fc00::', 7, 'ipv6'); // unique local

/** The 8 groups of an IPv6 address (with an embedded dotted quad), or undefined if it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.toLowerCase().replace(/%.*$/, '');
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, quad.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail, extra] = text.split('::');
  if (extra !== undefined) return undefined;
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const fill = tail === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...new Array<number>(Math.max(fill, 0)).fill(0), ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

/**
 * The IPv4 address an IPv6 one stands for: IPv4-mapped (::ffff:a.b.c.d, which reaches the IPv4
 * host) and the deprecated IPv4-compatible form (::a.b.c.d); else undefined.
 */
function embeddedIpv4(address: string): string | undefined {
  const g = ipv6Groups(address);
  if (!g || g.slice(0, 5).some((x) => x !== 0) || (g[5] !== 0xffff && g[5] !== 0)) return undefined;
  if (g[5] === 0 && g[6] === 0) return undefined; // :: and ::1 are IPv6's own
  return [g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8, g[7]! & 0xff].join('.');
}

/** Classifies an IP address (v4 or v6 literal); anything that is not one is `forbidden`. */
export function classifyAddress(address: string): AddressClass {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(bare);
  if (family === 0) return 'forbidden';
  if (family === 6) {
    const v4 = embeddedIpv4(bare);
    if (v4 !== undefined) return classifyAddress(v4);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (forbidden.check(bare, type)) return 'forbidden';
  if (privateNets.check(bare, type)) return 'private';
  return 'public';
}

/** Whether an address of this class may be sent to under the setting. */
export const addressAllowed = (klass: AddressClass, allowInsecure: boolean) =>
  klass === 'public' || (klass === 'private' && allowInsecure);

/**
 * Why a webhook URL is refused, or undefined when it may be used: the scheme, and the host when
 * it is an address literal or a loopback name (a host name is checked again on each delivery, on
 * the addresses it resolves to: webhook-sender.ts).
 */
export function refuseTargetUrl(url: URL, allowInsecure: boolean): string | undefined {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http or https URL';
  if (url.protocol === 'http:' && !allowInsecure) {
    return 'must be https (plain http only with WEBHOOK_ALLOW_INSECURE_TARGETS=true)';
  }
  if (url.username !== '' || url.password !== '') return 'must not hold a user name or password';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  const klass =
    isIP(host) !== 0
      ? classifyAddress(host)
      : host === 'localhost' || host.endsWith('.localhost')
        ? 'private'
        : 'public';
  return refusal(klass, allowInsecure, host);
}

/** Why an address of this class is refused, or undefined. */
export function refusal(klass: AddressClass, allowInsecure: boolean, address: string): string | undefined {
  if (klass === 'forbidden') {
    return `targets ${address}: link-local, unspecified, multicast or reserved addresses are never allowed`;
  }
  if (klass === 'private' && !allowInsecure) {
    return `targets ${address}: loopback and private addresses only with WEBHOOK_ALLOW_INSECURE_TARGETS=true`;
  }
  return undefined;
}
