import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of one service instance, on its own registry (no global state, so
 * tests and several apps in one process do not collide). Served at GET /metrics.
 */
export interface Metrics {
  registry: Registry;
  readings: Counter<'stream' | 'outcome'>;
  batchReadings: Histogram;
  flushSeconds: Histogram;
  queueDepth: Gauge;
  /** Where the queue-depth gauge reads its value at scrape time. */
  setQueueDepthSource(source: () => number): void;
  httpSeconds: Histogram<'method' | 'route' | 'status'>;
  analyticsSeconds: Histogram;
  databaseErrors: Counter;
  replicaReads: Counter<'replica' | 'outcome'>;
  primaryFallbacks: Counter<'reason'>;
  replicaLag: Gauge<'replica'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let queueDepthSource = () => 0;
  return {
    setQueueDepthSource: (source) => {
      queueDepthSource = source;
    },
    registry,
    readings: new Counter({
      name: 'ev_readings_total',
      help: 'Readings received, by stream and outcome (accepted, duplicate, rejected).',
      labelNames: ['stream', 'outcome'],
      registers: [registry],
    }),
    batchReadings: new Histogram({
      name: 'ev_ingest_batch_readings',
      help: 'Readings per written batch (group commit).',
      buckets: [1, 10, 50, 100, 500, 1000, 5000, 10000],
      registers: [registry],
    }),
    flushSeconds: new Histogram({
      name: 'ev_ingest_flush_seconds',
      help: 'Time to write one batch to the database.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'ev_ingest_queue_readings',
      help: 'Readings queued or being written, not yet answered.',
      registers: [registry],
      collect() {
        this.set(queueDepthSource());
      },
    }),
    httpSeconds: new Histogram({
      name: 'ev_http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    analyticsSeconds: new Histogram({
      name: 'ev_analytics_query_seconds',
      help: 'Time to compute one performance report (database part).',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    databaseErrors: new Counter({
      name: 'ev_database_errors_total',
      help: 'Database operations that failed (connection errors included).',
      registers: [registry],
    }),
    replicaReads: new Counter({
      name: 'ev_replica_reads_total',
      help: 'Reads offered to each read replica, by outcome (served, lagging, unreachable, recovery_conflict).',
      labelNames: ['replica', 'outcome'],
      registers: [registry],
    }),
    primaryFallbacks: new Counter({
      name: 'ev_replica_primary_fallbacks_total',
      help: 'Reads the primary answered although read replicas are configured, by the reason the first replica gave.',
      labelNames: ['reason'],
      registers: [registry],
    }),
    replicaLag: new Gauge({
      name: 'ev_replica_lag_seconds',
      help: 'Last measured delay of each read replica (from the fence on the primary to seeing it replayed).',
      labelNames: ['replica'],
      registers: [registry],
    }),
  };
}
