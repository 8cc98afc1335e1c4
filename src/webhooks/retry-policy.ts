import type { WebhookConfig } from '../config/webhook-config.js';
import type { SendResult } from './webhook-sender.js';

/**
 * What an attempt's result means for its delivery (docs/webhooks.md, "Retries"). A 2xx
 * succeeds. Timeouts, connection and DNS errors, 408, 429 and 5xx are retried: the receiver
 * is down, overloaded or restarting. Any other answer (3xx: redirects are not followed; 4xx:
 * the receiver refused this request) fails at once rather than repeating the same refusal for
 * 24 hours (Standard Webhooks leaves it to the sender; ours is the stricter choice, and a manual
 * redeliver sends it again); so does a target whose address is refused.
 */
export type Verdict =
  { outcome: 'succeeded' } | { outcome: 'retry'; delayMs: number } | { outcome: 'failed'; reason: string };

const RETRIED_STATUSES = new Set([408, 429]);

export function isRetryable(result: SendResult): boolean {
  if (result.kind === 'timeout' || result.kind === 'error') return true;
  if (result.kind === 'refused') return false;
  return result.status >= 500 || RETRIED_STATUSES.has(result.status);
}

/**
 * `Retry-After` as milliseconds from `now`: delay-seconds or an HTTP date; undefined when absent
 * or unreadable (then the backoff applies).
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Exponential backoff with jitter: the n-th retry waits base * 2^(n-1), capped, times 0.5-1.0. */
export function backoffMs(
  attempts: number,
  config: Pick<WebhookConfig, 'retryBaseMs' | 'retryMaxMs'>,
  random = Math.random,
): number {
  const exponential = Math.min(config.retryMaxMs, config.retryBaseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
  return Math.round(exponential * (0.5 + random() / 2));
}

export function verdict(
  result: SendResult,
  attempts: number,
  retryFrom: Date,
  config: Pick<WebhookConfig, 'retryBaseMs' | 'retryMaxMs' | 'maxAgeMs'>,
  now = Date.now(),
): Verdict {
  if (result.kind === 'response' && result.status >= 200 && result.status < 300) return { outcome: 'succeeded' };
  const reason = describe(result);
  if (!isRetryable(result)) return { outcome: 'failed', reason };
  // Retry-After is honoured as given (a receiver asking for more than the backoff gets it).
  const retryAfter = result.kind === 'response' ? parseRetryAfter(result.retryAfter, now) : undefined;
  const delayMs = retryAfter ?? backoffMs(attempts, config);
  if (now + delayMs > retryFrom.getTime() + config.maxAgeMs) {
    return { outcome: 'failed', reason: `${reason}; gave up after retrying for ${config.maxAgeMs} ms` };
  }
  return { outcome: 'retry', delayMs };
}

export function describe(result: SendResult): string {
  switch (result.kind) {
    case 'response':
      return result.status >= 300 && result.status < 400
        ? `HTTP ${result.status} (redirects are not followed)`
        : `HTTP ${result.status}`;
    case 'timeout':
      return `timed out after ${result.timeoutMs} ms`;
    case 'error':
    case 'refused':
      return result.message;
  }
}
