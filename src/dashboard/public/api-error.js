// @ts-check

/** A failed API call: the HTTP status and the API's error code, or status 0 when unreachable. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {string | null} [retryAfter] the Retry-After header of a 429
   */
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/**
 * The key was refused (401) or lacks the read scope (403): only another key helps.
 * @param {unknown} err
 * @returns {err is ApiError}
 */
export const isAuthError = (err) => err instanceof ApiError && (err.status === 401 || err.status === 403);
