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
  streams: StreamMetrics;
}

/** Stream ingestion (src/streams), labelled by stream name (and shard where it helps). */
export interface StreamMetrics {
  records: Counter<'stream_name' | 'outcome'>;
  readings: Counter<'stream_name' | 'outcome'>;
  deadLetters: Counter<'stream_name' | 'reason'>;
  millisBehindLatest: Gauge<'stream_name' | 'shard_id'>;
  leaseChanges: Counter<'stream_name' | 'change'>;
  errors: Counter<'stream_name' | 'kind'>;
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
    streams: {
      records: new Counter({
        name: 'ev_stream_records_total',
        help: 'Stream records committed, by stream and outcome (stored, dead_lettered).',
        labelNames: ['stream_name', 'outcome'],
        registers: [registry],
      }),
      readings: new Counter({
        name: 'ev_stream_readings_total',
        help: 'Readings of committed stream records, by stream and outcome (accepted, duplicate, rejected).',
        labelNames: ['stream_name', 'outcome'],
        registers: [registry],
      }),
      deadLetters: new Counter({
        name: 'ev_stream_dead_letters_total',
        help: 'Stream records dead-lettered, by stream and reason (not_json, invalid_readings, too_old).',
        labelNames: ['stream_name', 'reason'],
        registers: [registry],
      }),
      millisBehindLatest: new Gauge({
        name: 'ev_stream_millis_behind_latest',
        help: "How far the last read of a shard held by this consumer was behind the stream's tip (MillisBehindLatest).",
        labelNames: ['stream_name', 'shard_id'],
        registers: [registry],
      }),
      leaseChanges: new Counter({
        name: 'ev_stream_lease_changes_total',
        help: 'Shard leases this consumer took, stole, lost, released or finished (shard read to its end).',
        labelNames: ['stream_name', 'change'],
        registers: [registry],
      }),
      errors: new Counter({
        name: 'ev_stream_errors_total',
        help: 'Failed stream operations by kind (throttled, expired_iterator, kinesis, database).',
        labelNames: ['stream_name', 'kind'],
        registers: [registry],
      }),
    },
  };
}
