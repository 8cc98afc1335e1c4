import { ERROR_CODES, type ErrorCode, type ErrorStatus } from './error-codes.js';

/** One entry of an error's details: which reading or line (for batches), which field, and why. */
export interface ErrorDetail {
  index?: number;
  /** For CSV bodies: the 1-based line. */
  line?: number;
  path: string;
  message: string;
  /** For assignment_conflict: the assignment the request collides with (instants in ISO, null when unbounded). */
  conflict?: { assignmentId: number; vehicleId: string; meterId: string; from: string | null; to: string | null };
}

export interface AppErrorOptions {
  details?: ErrorDetail[];
  headers?: Record<string, string>;
}

/**
 * The one error type the service throws on purpose. The error middleware turns it into
 * `{ error: { code, message, details? } }`. The code is one of the catalogue's
 * (`error-codes.ts`) and the status comes from there, so the two cannot disagree; the
 * message tells this case.
 */
export class AppError extends Error {
  override name = 'AppError';
  readonly status: ErrorStatus;
  readonly details: ErrorDetail[] | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message);
    this.status = ERROR_CODES[code].status;
    this.details = options.details;
    this.headers = options.headers;
  }

  static validation(details: ErrorDetail[], message = 'The request is invalid.'): AppError {
    return new AppError('validation_failed', message, { details });
  }

  static overloaded(retryAfterSeconds: number): AppError {
    return new AppError('overloaded', 'The ingest queue is full; retry later.', {
      headers: { 'Retry-After': String(retryAfterSeconds) },
    });
  }

  static databaseUnavailable(): AppError {
    return new AppError('database_unavailable', 'The database is unavailable; retry later.', {
      headers: { 'Retry-After': '1' },
    });
  }
}
