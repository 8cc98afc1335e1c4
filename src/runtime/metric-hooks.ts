import type { ChunkOutcome } from '../archive/archive-job.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ReadObserver } from '../replicas/read-router.js';
import type { IngestObserver } from '../telemetry/ingest-queue.js';
import type { ReadingKind } from '../telemetry/reading.js';
import type { DeliveryObserver } from '../webhooks/webhook-delivery.job.js';

// What the API process's parts report, counted in its Prometheus metrics (GET /metrics).
// The parts know only their observer interfaces; the metric names live in metrics/metrics.ts.

/** Replica reads: served (with the lag), skipped (why), answered by the primary instead. */
export function replicaReadMetrics(metrics: Metrics): ReadObserver {
  return {
    served: (replica, lagMs) => {
      metrics.replicaReads.inc({ replica, outcome: 'served' });
      metrics.replicaLag.set({ replica }, lagMs / 1000);
    },
    skipped: (replica, reason) => metrics.replicaReads.inc({ replica, outcome: reason }),
    fellBack: (reason) => metrics.primaryFallbacks.inc({ reason }),
  };
}

/** The ingest queue: batch sizes and flush times, readings accepted and duplicate. */
export function ingestMetrics(metrics: Metrics): IngestObserver {
  return {
    batchWritten: (readings, seconds) => {
      metrics.batchReadings.observe(readings);
      metrics.flushSeconds.observe(seconds);
    },
    answered: (stream, accepted, duplicates) => {
      metrics.readings.inc({ stream, outcome: 'accepted' }, accepted);
      metrics.readings.inc({ stream, outcome: 'duplicate' }, duplicates);
    },
  };
}

/** The archive job: each chunk's outcome, and the rows of the archived ones. */
export function archiveMetrics(metrics: Metrics): (stream: ReadingKind, outcome: ChunkOutcome, rows: number) => void {
  return (stream, outcome, rows) => {
    metrics.archiveChunks.inc({ stream, outcome });
    if (outcome === 'archived') metrics.archiveRows.inc({ stream }, rows);
  };
}

/** Webhook delivery attempts: by event type and outcome, and their duration. */
export function webhookMetrics(metrics: Metrics): DeliveryObserver {
  return {
    attempted: (type, outcome, seconds) => {
      metrics.webhooks.deliveries.inc({ type, outcome });
      metrics.webhooks.deliverySeconds.observe({ outcome }, seconds);
    },
  };
}
