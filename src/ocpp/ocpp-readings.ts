import { AppError } from '../http/app-error.js';
import { meterBatchSchema, type TimestampLimits } from '../telemetry/ingestion.schema.js';
import type { IngestionService } from '../telemetry/ingestion.service.js';
import type { IngestResult } from '../telemetry/reading.js';
import { SampleError, type SourcedReading } from './meter-values.js';
import { ocppError } from './ocpp-rpc.js';

/**
 * Stores register readings from a station through the HTTP path: the same schema (bounds,
 * acceptance window, ids), the same group-commit queue (dedupe: a reading whose meter and
 * timestamp are stored is a duplicate, the first one kept), resolving only once committed, so
 * the CALLRESULT is sent after the readings are durable. All or nothing, as a request: a
 * reading that would be refused over HTTP refuses the call (PropertyConstraintViolation,
 * naming it), and nothing of it is stored.
 */
export async function storeRegisterReadings(
  ingestion: IngestionService,
  limits: TimestampLimits,
  sourced: readonly SourcedReading[],
): Promise<IngestResult> {
  if (sourced.length === 0) return { accepted: 0, duplicates: 0 };
  const parsed = meterBatchSchema(limits, sourced.length).safeParse(sourced.map((s) => s.reading));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const [index, ...field] = issue.path;
      const source = typeof index === 'number' ? sourced[index]?.path : undefined;
      const name = field.join('.');
      // The schema names the HTTP fields; say which OCPP value they came from.
      const what = name === 'timestamp' ? 'timestamp' : name === 'voltage' ? 'Voltage' : 'value';
      return `${source ?? 'meterValue'} (${what}): ${issue.message}`;
    });
    throw ocppError('PropertyConstraintViolation', problems.join('; '));
  }
  try {
    return await ingestion.ingestMeterReadings(parsed.data);
  } catch (error) {
    // Not stored (or not known to be): the station keeps the message and sends it again.
    if (error instanceof AppError) throw ocppError('InternalError', `${error.message} Send the message again later.`);
    throw error;
  }
}

/** SampleError (a value the service cannot keep) is the station's: PropertyConstraintViolation. */
export function sampled<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof SampleError) throw ocppError('PropertyConstraintViolation', error.message);
    throw error;
  }
}
