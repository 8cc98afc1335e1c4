// @ts-check
// What the fleet table and the vehicle view share. Everything else is private to its module.
/** @import { FleetItem } from './api-client.js' */

/**
 * Numbers the requests of one kind so that a response that arrives after a newer request
 * started (or after the key changed) is dropped instead of overwriting newer data.
 */
class RequestSequence {
  #latest = 0;

  /** @returns {number} the new request's number */
  start() {
    return ++this.#latest;
  }

  /** @param {number} request */
  isLatest(request) {
    return request === this.#latest;
  }

  /** Drops the answers of every request already started. */
  dropPending() {
    this.#latest += 1;
  }
}

export const state = {
  /** @type {FleetItem[]} the fleet loaded so far, in the API's order (flagged first) */
  items: [],
  /** @type {string | null} the vehicle whose charts are shown */
  selected: null,
  /** @type {number | null} the API's efficiency threshold, from its latest analytics response */
  threshold: null,
  fleetRequests: new RequestSequence(),
  vehicleRequests: new RequestSequence(),
};
