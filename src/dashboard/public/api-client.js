// @ts-check
// The /v1 analytics API, called with the stored key. The response types are the server's own
// (its zod schemas): a type-only import, nothing of the server reaches the browser.
import { ApiError } from './api-error.js';
import { currentApiKey } from './api-key-storage.js';
import { messageOf } from './error-messages.js';

/**
 * @typedef {import('../../analytics/analytics.schema.js').FleetPage} FleetPage
 * @typedef {FleetPage['items'][number]} FleetItem
 * @typedef {import('../../analytics/analytics.schema.js').SeriesReport} SeriesReport
 * @typedef {SeriesReport['points'][number]} SeriesPoint
 * @typedef {import('../../analytics/analytics.schema.js').PerformanceReport} PerformanceReport
 * @typedef {FleetItem['efficiencyStatus']} EfficiencyStatus
 * @typedef {import('../../telemetry/register-events.schema.js').RegisterEvents} RegisterEvents
 * @typedef {import('../../alerts/alerts.schema.js').AlertPage} AlertPage
 * @typedef {AlertPage['items'][number]} Alert
 * @typedef {{ from: string, to: string }} TimeSpan ISO-8601 instants
 */

/**
 * GET with the key; the JSON body, or an ApiError with the API's error code and message.
 * @param {string} path
 * @returns {Promise<unknown>}
 */
async function getJson(path) {
  const apiKey = currentApiKey();
  if (!apiKey) throw new ApiError(401, 'unauthorized', 'An API key is required.');
  let response;
  try {
    response = await fetch(path, {
      headers: { Authorization: 'Bearer ' + apiKey, Accept: 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (err) {
    throw new ApiError(0, 'network_error', 'The service cannot be reached (' + messageOf(err) + ').');
  }
  /** @type {unknown} */
  let body;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const error = errorOf(body);
    throw new ApiError(
      response.status,
      typeof error.code === 'string' ? error.code : 'http_' + response.status,
      typeof error.message === 'string' ? error.message : response.statusText || 'Request failed.',
      response.headers.get('Retry-After'),
    );
  }
  return body;
}

/**
 * The `error` object of an error response ({ error: { code, message } }); empty if there is none.
 * @param {unknown} body
 * @returns {{ code?: unknown, message?: unknown }}
 */
function errorOf(body) {
  const error = body && typeof body === 'object' && 'error' in body ? body.error : null;
  return error && typeof error === 'object' ? error : {};
}

/**
 * @param {URLSearchParams} query a first page's window, sort and limit, or a cursor and limit
 * @returns {Promise<FleetPage>}
 */
export async function fetchFleetPage(query) {
  return /** @type {FleetPage} */ (await getJson('/v1/analytics/fleet?' + query.toString()));
}

/**
 * @param {string} vehicleId
 * @param {TimeSpan} span
 * @param {string} bucket
 * @returns {Promise<SeriesReport>}
 */
export async function fetchPerformanceSeries(vehicleId, span, bucket) {
  const query = new URLSearchParams({ ...span, bucket });
  const path = '/v1/analytics/performance/' + encodeURIComponent(vehicleId) + '/series?' + query.toString();
  return /** @type {SeriesReport} */ (await getJson(path));
}

/**
 * @param {string} vehicleId
 * @param {TimeSpan} span
 * @returns {Promise<PerformanceReport>}
 */
export async function fetchPerformance(vehicleId, span) {
  const query = new URLSearchParams(span);
  const path = '/v1/analytics/performance/' + encodeURIComponent(vehicleId) + '?' + query.toString();
  return /** @type {PerformanceReport} */ (await getJson(path));
}

/**
 * A device's register resets and jumps in the span (the first 1,000).
 * @param {'meters' | 'vehicles'} kind
 * @param {string} deviceId
 * @param {TimeSpan} span
 * @returns {Promise<RegisterEvents>}
 */
export async function fetchRegisterEvents(kind, deviceId, span) {
  const query = new URLSearchParams({ ...span, limit: '1000' });
  const path = '/v1/' + kind + '/' + encodeURIComponent(deviceId) + '/register-events?' + query.toString();
  return /** @type {RegisterEvents} */ (await getJson(path));
}

/**
 * The firing alerts, newest first (the first 100).
 * @returns {Promise<AlertPage>}
 */
export async function fetchFiringAlerts() {
  return /** @type {AlertPage} */ (await getJson('/v1/alerts?state=firing&limit=100'));
}
