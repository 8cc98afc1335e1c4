import type { ErrorDetail } from '../http/app-error.js';
import type { ErrorCode } from '../http/error-codes.js';

/**
 * One realistic answer per error code, for the reference's error responses: keyed by every
 * code of the catalogue, so a new code without an example fails the type check.
 */
export const ERROR_EXAMPLES: Record<ErrorCode, { message: string; details?: ErrorDetail[] }> = {
  validation_failed: {
    message: 'The request is invalid.',
    details: [{ path: 'query.from', message: 'must be an ISO-8601 date-time with a time zone (Z or +hh:mm)' }],
  },
  malformed_json: { message: 'The request body is not valid JSON.' },
  too_deeply_nested: { message: 'The JSON body nests deeper than 16 levels.' },
  bad_request: { message: 'The request could not be processed.' },
  unauthorized: { message: 'The API key is not valid.' },
  forbidden: { message: 'This API key lacks the "admin" scope.' },
  device_forbidden: {
    message: 'This API key is bound to another device.',
    details: [{ index: 1, path: 'vehicleId', message: 'this key may only send readings of vehicle ev-42' }],
  },
  not_found: { message: 'No route for GET /v1/vehicle/ev-42/live.' },
  meter_not_found: { message: 'No reading received from meter meter-17.' },
  vehicle_not_found: {
    message:
      'Vehicle ev-42 is unknown: no reading has been received from it and it has no meter mapped. Check the id; to ' +
      'analyse a vehicle before it sends, map one with PUT /v1/vehicles/ev-42/meter {"meterId": "<meter id>"}.',
  },
  vehicle_not_mapped: {
    message:
      'Vehicle ev-42 has no meter mapped, so its AC side is unknown: map one with PUT /v1/vehicles/ev-42/meter ' +
      '{"meterId": "<meter id>"}.',
  },
  assignment_not_found: { message: 'No assignment 7.' },
  assignment_conflict: {
    message: 'The assignment overlaps another one.',
    details: [
      {
        path: 'meterId',
        message: 'meter-17 serves ev-43 then',
        conflict: {
          assignmentId: 12,
          vehicleId: 'ev-43',
          meterId: 'meter-17',
          from: '2026-11-20T00:00:00.000Z',
          to: null,
        },
      },
    ],
  },
  key_not_found: { message: 'No active key 3f8e4c1a-5b2d-4e6f-9a7b-1c2d3e4f5a6b.' },
  charge_point_not_found: { message: 'No charge point cp-1.' },
  id_token_not_found: { message: 'No vehicle is mapped to id token 04A2B3C4D5E6F7.' },
  alert_rule_not_found: { message: 'No alert rule 7.' },
  alert_not_found: { message: 'No alert 42.' },
  method_not_allowed: { message: 'DELETE is not allowed on /v1/vehicles/ev-42/meter; allowed: HEAD, GET, PUT.' },
  payload_too_large: { message: 'The request body is larger than the limit.' },
  unsupported_media_type: { message: 'The request body must be application/json.' },
  rate_limited: { message: 'Too many requests for this key; retry later.' },
  internal_error: { message: 'An unexpected error occurred (request 0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0).' },
  not_implemented: { message: 'PROPFIND is not implemented.' },
  database_unavailable: { message: 'The database is unavailable; retry later.' },
  overloaded: { message: 'The ingest queue is full; retry later.' },
  shutting_down: { message: 'The service is shutting down; retry later.' },
  not_ready: { message: 'Not ready: the database is unreachable.' },
  webhook_target_refused: {
    message:
      'The webhook URL targets 169.254.169.254: link-local, unspecified, multicast or reserved addresses are never allowed.',
    details: [
      {
        path: 'url',
        message: 'targets 169.254.169.254: link-local, unspecified, multicast or reserved addresses are never allowed',
      },
    ],
  },
  webhook_not_found: { message: 'No webhook 3f8e4c1a-5b2d-4e6f-9a7b-1c2d3e4f5a6b.' },
  webhook_delivery_not_found: { message: 'No delivery 42 of webhook 3f8e4c1a-5b2d-4e6f-9a7b-1c2d3e4f5a6b.' },
  webhook_delivery_in_flight: { message: 'Delivery 42 is being sent right now.' },
};

export const errorExample = (code: ErrorCode) => ({ error: { code, ...ERROR_EXAMPLES[code] } });
