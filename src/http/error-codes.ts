/** The HTTP statuses the service answers errors with. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 429 | 500 | 501 | 503;

export interface ErrorCodeSpec {
  status: ErrorStatus;
  /** What the code tells a client: what went wrong, and whether anything was stored or changed. */
  description: string;
  /**
   * Answered whatever the route (an unknown path or method, a request that cannot be read, a
   * failure of the service): described once for the whole API rather than under each route.
   */
  anyRequest?: true;
}

/**
 * Every error code the service can answer, its status and its meaning: the one place a code
 * is declared. `AppError` takes only these codes and its status from here; the API reference
 * builds its error descriptions from here; docs/api.md's error table is checked against this.
 */
export const ERROR_CODES = {
  validation_failed: {
    status: 400,
    description:
      'The input is invalid: `details` lists each problem (`path`, `message`, and the `index` or `line` of the item ' +
      'in a batch). Nothing was stored or changed: a batch is all or nothing.',
  },
  malformed_json: {
    status: 400,
    description: 'The body is not valid JSON. Nothing was stored or changed.',
  },
  too_deeply_nested: {
    status: 400,
    description:
      'The JSON body nests deeper than the service allows (the message gives the limit). Nothing was stored or changed.',
  },
  bad_request: {
    status: 400,
    description:
      'The request could not be read, e.g. a body shorter or longer than its `Content-Length`, or a compressed body ' +
      '(`Content-Encoding` gzip, deflate, br) that is truncated or corrupt. Nothing was stored or changed.',
    anyRequest: true,
  },
  unauthorized: {
    status: 401,
    description: 'No API key was sent, or it is not a valid one (unknown or revoked). Nothing was done.',
  },
  forbidden: {
    status: 403,
    description: 'The API key lacks the scope this route requires. Nothing was done.',
  },
  device_forbidden: {
    status: 403,
    description:
      'The API key is bound to one device and the request holds readings of another (`details` lists them). ' +
      'Nothing of the request was stored.',
  },
  not_found: {
    status: 404,
    description: 'No route has this path.',
    anyRequest: true,
  },
  meter_not_found: {
    status: 404,
    description: 'No reading has been received from this meter.',
  },
  vehicle_not_found: {
    status: 404,
    description:
      'No reading has been received from this vehicle (and, on the routes that need its meter, it has no meter ' +
      'mapped either): check the id, or map a meter first (`PUT /v1/vehicles/{vehicleId}/meter`).',
  },
  vehicle_not_mapped: {
    status: 404,
    description:
      'The vehicle is known (it sent readings or had a meter) but has no meter mapped, so its AC side is unknown: ' +
      'map one with `PUT /v1/vehicles/{vehicleId}/meter`.',
  },
  assignment_not_found: {
    status: 404,
    description: 'No vehicle-to-meter assignment has this id. Nothing was changed.',
  },
  assignment_conflict: {
    status: 409,
    description:
      'The assignment would overlap another one of the same vehicle or of the same meter (a meter serves one vehicle ' +
      'at a time, a vehicle draws from one meter at a time): each detail names the assignment it collides with ' +
      '(`conflict`). Nothing was changed.',
  },
  key_not_found: {
    status: 404,
    description: 'No active API key has this id (unknown or already revoked). Nothing was changed.',
  },
  charge_point_not_found: {
    status: 404,
    description: 'No charging station has this id: register it with `PUT /v1/charge-points/{chargePointId}`.',
  },
  id_token_not_found: {
    status: 404,
    description: 'No vehicle is mapped to this OCPP id token. Nothing was changed.',
  },
  alert_rule_not_found: {
    status: 404,
    description: 'No alert rule has this id (unknown or deleted). Nothing was changed.',
  },
  alert_not_found: {
    status: 404,
    description: 'No alert has this id.',
  },
  method_not_allowed: {
    status: 405,
    description: 'The path exists, but not with this method.',
    anyRequest: true,
  },
  payload_too_large: {
    status: 413,
    description: 'The body is larger than the limit (`INGEST_MAX_BODY_BYTES`). Nothing was stored or changed.',
  },
  unsupported_media_type: {
    status: 415,
    description: 'The body is not in a media type or encoding this route takes. Nothing was stored or changed.',
  },
  rate_limited: {
    status: 429,
    description: "The API key's request rate is over its limit; retry after `Retry-After`. Nothing was done.",
  },
  internal_error: {
    status: 500,
    description:
      'An unexpected failure; the message names the request id to look up in the logs. A write may or may not have ' +
      'taken effect: ingestion can be retried safely (stored readings count as duplicates).',
    anyRequest: true,
  },
  not_implemented: {
    status: 501,
    description: 'The HTTP method is not one the service implements.',
    anyRequest: true,
  },
  database_unavailable: {
    status: 503,
    description:
      'The database cannot be reached right now, or did not answer within the statement timeout; retry after ' +
      '`Retry-After`. An ingest refused this way was not acknowledged but may have been stored: its retry is safe ' +
      '(stored readings count as duplicates).',
  },
  overloaded: {
    status: 503,
    description: 'The ingest queue is full; nothing of the request was stored. Retry after `Retry-After`.',
  },
  shutting_down: {
    status: 503,
    description: 'The service is shutting down; nothing of the request was stored. Retry after `Retry-After`.',
  },
  not_ready: {
    status: 503,
    description: 'Readiness: the database is unreachable, a migration is not applied, or the service is shutting down.',
  },
  webhook_target_refused: {
    status: 400,
    description:
      'The webhook URL is not allowed: plain http, or a loopback or private address without ' +
      '`WEBHOOK_ALLOW_INSECURE_TARGETS=true`, or a link-local, unspecified or multicast address (never allowed); ' +
      '`details` names the field and why. Nothing was stored.',
  },
  webhook_not_found: {
    status: 404,
    description: 'No webhook has this id (unknown or deleted). Nothing was changed.',
  },
  webhook_delivery_not_found: {
    status: 404,
    description: 'The webhook has no delivery with this id. Nothing was changed.',
  },
  webhook_delivery_in_flight: {
    status: 409,
    description:
      'The delivery is being sent right now; redeliver it once this attempt is recorded. Nothing was changed.',
  },
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const ALL_ERROR_CODES = Object.keys(ERROR_CODES) as ErrorCode[];

/** A code's entry, typed as the general shape (optional fields included). */
export const errorCodeSpec = (code: ErrorCode): ErrorCodeSpec => ERROR_CODES[code];
