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
  archiveChunks: Counter<'stream' | 'outcome'>;
  archiveRows: Counter<'stream'>;
  archiveFailingChunks: Gauge;
  /** Where the failing-chunks gauge reads its value at scrape time (the database: any instance may have failed). */
  setArchiveFailingSource(source: () => Promise<number>): void;
  streams: StreamMetrics;
  ocpp: OcppMetrics;
  webhooks: WebhookMetrics;
}

/** Webhook delivery (src/webhooks). */
export interface WebhookMetrics {
  deliveries: Counter<'type' | 'outcome'>;
  deliverySeconds: Histogram<'outcome'>;
  outboxDepth: Gauge;
  events: Gauge<'type'>;
  /** Where the outbox gauges read their values at scrape time (the database: shared by all instances). */
  setOutboxSources(sources: { depth: () => Promise<number>; events: () => Promise<Record<string, number>> }): void;
}

/** OCPP charging stations (src/ocpp). */
export interface OcppMetrics {
  stationsConnected: Gauge<'protocol'>;
  messages: Counter<'protocol' | 'action' | 'outcome'>;
  upgradesRefused: Counter<'reason'>;
  ignoredSamples: Counter;
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
  let archiveFailingSource = () => Promise.resolve(0);
  let outboxDepthSource = () => Promise.resolve(0);
  let outboxEventsSource = () => Promise.resolve<Record<string, number>>({});
  return {
    setArchiveFailingSource: (source) => {
      archiveFailingSource = source;
    },
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
    archiveChunks: new Counter({
      name: 'ev_archive_chunks_total',
      help: 'Raw-history chunks the archive job handled, by stream and outcome (archived, failed, held, busy).',
      labelNames: ['stream', 'outcome'],
      registers: [registry],
    }),
    archiveRows: new Counter({
      name: 'ev_archive_rows_total',
      help: 'Readings archived to object storage and dropped from the database, by stream.',
      labelNames: ['stream'],
      registers: [registry],
    }),
    archiveFailingChunks: new Gauge({
      name: 'ev_archive_failing_chunks',
      help: 'Chunks whose last archive attempt failed (kept in the database until an attempt succeeds).',
      registers: [registry],
      async collect() {
        // A failed look keeps the last value: the scrape itself must not fail.
        this.set(await archiveFailingSource().catch(() => this.get().then((m) => m.values[0]?.value ?? 0)));
      },
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
    ocpp: {
      stationsConnected: new Gauge({
        name: 'ev_ocpp_stations_connected',
        help: 'OCPP stations connected to this instance, by protocol.',
        labelNames: ['protocol'],
        registers: [registry],
      }),
      messages: new Counter({
        name: 'ev_ocpp_messages_total',
        help: 'OCPP calls from stations answered, by protocol, action (other: not implemented) and outcome (ok or the CALLERROR code).',
        labelNames: ['protocol', 'action', 'outcome'],
        registers: [registry],
      }),
      upgradesRefused: new Counter({
        name: 'ev_ocpp_upgrades_refused_total',
        help: 'OCPP WebSocket upgrades refused, by reason (unauthorized, subprotocol, path).',
        labelNames: ['reason'],
        registers: [registry],
      }),
      ignoredSamples: new Counter({
        name: 'ev_ocpp_ignored_samples_total',
        help: 'Sampled values of meter values not stored: measurands other than the energy register and the voltage.',
        registers: [registry],
      }),
    },
    webhooks: {
      setOutboxSources: (sources) => {
        outboxDepthSource = sources.depth;
        outboxEventsSource = sources.events;
      },
      deliveries: new Counter({
        name: 'ev_webhook_deliveries_total',
        help: 'Webhook delivery attempts, by event type and outcome (succeeded, retried, failed).',
        labelNames: ['type', 'outcome'],
        registers: [registry],
      }),
      deliverySeconds: new Histogram({
        name: 'ev_webhook_delivery_seconds',
        help: 'Duration of one webhook delivery attempt (connection to the end of the response), by outcome.',
        labelNames: ['outcome'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
      outboxDepth: new Gauge({
        name: 'ev_webhook_outbox_pending',
        help: 'Webhook deliveries not yet done (pending or being delivered), across all instances.',
        registers: [registry],
        async collect() {
          this.set(await outboxDepthSource().catch(() => this.get().then((m) => m.values[0]?.value ?? 0)));
        },
      }),
      events: new Gauge({
        name: 'ev_webhook_events',
        help: 'Events in the webhook outbox (kept WEBHOOK_RETENTION_DAYS), by type, across all instances.',
        labelNames: ['type'],
        registers: [registry],
        async collect() {
          // A failed look keeps the last values: the scrape itself must not fail.
          const counts = await outboxEventsSource().catch(() => undefined);
          for (const [type, n] of Object.entries(counts ?? {})) this.set({ type }, n);
        },
      }),
    },
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
        help: 'Failed stream operations by kind (throttled, expired_iterator, missing, kinesis, database).',
        labelNames: ['stream_name', 'kind'],
        registers: [registry],
      }),
    },
  };
}
