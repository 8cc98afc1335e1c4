/** One entry of an error's details: which reading or line (for batches), which field, and why. */
export interface ErrorDetail {
  index?: number;
  /** For CSV bodies: the 1-based line. */
  line?: number;
  path: string;
  message: string;
}

/**
 * The one error type the service throws on purpose. The error middleware turns it into
 * `{ error: { code, message, details? } }` with `status`; anything else becomes a 500.
 */
export class AppError extends Error {
  override name = 'AppError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }

  static notFound(code: string, message: string): AppError {
    return new AppError(404, code, message);
  }

  static validation(details: ErrorDetail[], message = 'The request is invalid.'): AppError {
    return new AppError(400, 'validation_failed', message, details);
  }

  static overloaded(retryAfterSeconds: number): AppError {
    return new AppError(503, 'overloaded', 'The ingest queue is full; retry later.', undefined, {
      'Retry-After': String(retryAfterSeconds),
    });
  }

  static databaseUnavailable(): AppError {
    return new AppError(503, 'database_unavailable', 'The database is unavailable; retry later.', undefined, {
      'Retry-After': '1',
    });
  }
}
