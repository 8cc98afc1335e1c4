import type { JsonClient } from '../../tools/simulator/http-client.js';
import { percentile, round } from './stats.js';

export interface LoadResult {
  requests: number;
  /** Readings acknowledged with 202 (from the responses' `accepted`). */
  acknowledged: number;
  refused: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface LoadSpec {
  client: JsonClient;
  durationMs: number;
  concurrency: number;
  /** Builds the n-th request: path and body. */
  request(n: number): { method: string; path: string; body?: unknown; readings: number };
  /** Requests per second across all workers (paced); unpaced when undefined. */
  ratePerSecond?: number;
}

/** Closed-loop (or paced) load for a fixed duration; latencies of every request. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  let acknowledged = 0;
  let refused = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + spec.durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const n = next++;
      if (spec.ratePerSecond !== undefined) {
        const due = started + (n / spec.ratePerSecond) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((done) => setTimeout(done, wait));
        if (performance.now() >= deadline) break;
      }
      const { method, path, body, readings } = spec.request(n);
      try {
        const res = await spec.client.send(method, path, body);
        latencies.push(res.latencyMs);
        if (res.status === 202) {
          const accepted = (res.body as { accepted?: number }).accepted;
          acknowledged += accepted ?? readings;
        } else if (res.status === 503) refused += 1;
        else if (res.status !== 200) errors += 1;
      } catch {
        errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  return {
    requests: latencies.length,
    acknowledged,
    refused,
    errors,
    seconds: round(seconds, 2),
    perSecond: round(latencies.length / seconds, 0),
    p50Ms: round(percentile(latencies, 50), 2),
    p99Ms: round(percentile(latencies, 99), 2),
  };
}
