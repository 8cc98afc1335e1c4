// @ts-check
// The efficiency statuses the API reports, and how the page shows each: the one place in the
// browser that names them. Keyed by the API's own status type, so a status the server adds or
// renames fails the type check here.
/** @import { EfficiencyStatus } from './api-client.js' */

/**
 * text: the badge's (its colours are app.css's .badge-<status>); colour: an hourly point on the
 * efficiency chart; flagged: listed first in the fleet table and marked.
 * @type {Readonly<Record<EfficiencyStatus, { text: string, colour: string, flagged: boolean }>>}
 */
const STATUSES = {
  normal: { text: 'normal', colour: '#2e7d32', flagged: false },
  low: { text: 'low', colour: '#c62828', flagged: true },
  implausible: { text: 'implausible', colour: '#d4a000', flagged: true },
  // Too little charging to judge (an idle or near-idle hour): the server's rule, not red.
  insufficient_data: { text: 'too little charging', colour: '#c5ccd4', flagged: false },
  no_data: { text: 'no data', colour: '#9aa5b1', flagged: false },
};

/**
 * A status the page does not know (a newer server) is shown as no data.
 * @param {string | null | undefined} status
 * @returns {EfficiencyStatus}
 */
function known(status) {
  return typeof status === 'string' && Object.hasOwn(STATUSES, status)
    ? /** @type {EfficiencyStatus} */ (status)
    : 'no_data';
}

/** @param {string | null | undefined} status */
export const isFlagged = (status) => STATUSES[known(status)].flagged;

/** @param {string | null | undefined} status */
export const statusColour = (status) => STATUSES[known(status)].colour;

/**
 * @param {string | null | undefined} status
 * @returns {HTMLSpanElement}
 */
export function statusBadge(status) {
  const span = document.createElement('span');
  const shown = known(status);
  span.className = 'badge badge-' + shown;
  span.textContent = STATUSES[shown].text;
  return span;
}
