// @ts-check
// What the page says when something fails.
import { ApiError } from './api-error.js';

/**
 * The message of anything thrown (not only Errors).
 * @param {unknown} err
 */
export function messageOf(err) {
  const message = err && typeof err === 'object' && 'message' in err ? err.message : null;
  return message ? String(message) : String(err);
}

/** @param {unknown} err */
export function describeError(err) {
  if (err instanceof ApiError) {
    if (err.status === 429) return 'Too many requests for this key; retry in ' + (err.retryAfter || 'a few') + ' s.';
    if (err.status === 0) return err.message;
    return err.message + ' (HTTP ' + err.status + ', ' + err.code + ')';
  }
  return 'Unexpected error: ' + messageOf(err);
}

/** @param {ApiError} err a 401 or 403 */
export function refusedKeyMessage(err) {
  if (err.status === 403) {
    return 'This API key lacks the "read" scope (HTTP 403). Enter a key with the read scope.';
  }
  return 'The API key was refused (HTTP 401: ' + err.message + ') Enter a valid key with the read scope.';
}
