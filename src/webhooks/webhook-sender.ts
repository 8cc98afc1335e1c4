import { promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';

import { classifyAddress, refusal, refuseTargetUrl } from './target-address.js';

/** What one attempt came to: an answer (any status), or why there was none. */
export type SendResult =
  | { kind: 'response'; status: number; retryAfter: string | undefined }
  | { kind: 'timeout'; timeoutMs: number }
  | { kind: 'error'; message: string }
  | { kind: 'refused'; message: string };

export interface SendOptions {
  timeoutMs: number;
  allowInsecureTargets: boolean;
  /** The response body is read (and discarded) up to this many bytes, then the connection is dropped. */
  maxResponseBytes?: number;
  /** How host names are resolved (tests stand in for DNS); default: the system resolver. */
  resolve?: Resolver;
}

/** Every address a host name resolves to. */
export type Resolver = (hostname: string, family: number) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (hostname, family) => dns.lookup(hostname, { all: true, family });

const MAX_RESPONSE_BYTES = 64 * 1024;
const USER_AGENT = 'ev-telemetry-webhooks/1';

class TargetRefusedError extends Error {}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * DNS resolution that refuses what the target check refuses, on every address the name resolves
 * to, and hands the socket exactly the checked addresses: the connection goes where the check
 * looked, so a name that resolves to a public address for the check and to 169.254.169.254 for
 * the connection (DNS rebinding) gets nowhere.
 */
function guardedLookup(allowInsecure: boolean, resolve: Resolver) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    const family = typeof options.family === 'number' ? options.family : 0;
    resolve(hostname, family).then(
      (addresses) => {
        for (const { address } of addresses) {
          const why = refusal(classifyAddress(address), allowInsecure, address);
          if (why) return callback(new TargetRefusedError(`${hostname} ${why}`), '');
        }
        if (addresses.length === 0) return callback(new Error(`${hostname} resolves to no address`), '');
        if (options.all) return callback(null, addresses);
        callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };
}

const describeError = (error: Error & { code?: string }) =>
  error.code && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message;

/**
 * POSTs one signed body. Never follows a redirect (a 3xx is an answer like any other), never
 * waits longer than the timeout from start to the end of the response, and reads at most
 * 64 KiB of the response. Never throws.
 */
export function sendWebhook(
  url: URL,
  body: string,
  headers: Record<string, string>,
  options: SendOptions,
): Promise<SendResult> {
  return new Promise((resolve) => {
    const refused = refuseTargetUrl(url, options.allowInsecureTargets);
    if (refused !== undefined) return resolve({ kind: 'refused', message: `the URL ${refused}` });
    const maxBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    let settled = false;
    const settle = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const request = (url.protocol === 'https:' ? https : http).request(
      url,
      {
        method: 'POST',
        agent: false,
        lookup: guardedLookup(options.allowInsecureTargets, options.resolve ?? systemResolver),
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': USER_AGENT,
        },
      },
      (response) => {
        const retryAfter = response.headers['retry-after'];
        const answered = () => settle({ kind: 'response', status: response.statusCode ?? 0, retryAfter });
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > maxBytes) {
            answered();
            response.destroy();
          }
        });
        response.on('end', answered);
        // The status is known: a body cut short does not change the answer.
        response.on('error', answered);
      },
    );
    const timer = setTimeout(() => {
      settle({ kind: 'timeout', timeoutMs: options.timeoutMs });
      request.destroy();
    }, options.timeoutMs);
    request.on('error', (error: Error & { code?: string }) =>
      settle(
        error instanceof TargetRefusedError
          ? { kind: 'refused', message: error.message }
          : { kind: 'error', message: describeError(error) },
      ),
    );
    request.end(body);
  });
}
