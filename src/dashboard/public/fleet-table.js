// @ts-check
// The fleet panel: the last day's figures of every vehicle, a page at a time, flagged first.
import { fetchFleetPage } from './api-client.js';
import { requireElement, setMessage } from './dom.js';
import { isFlagged } from './efficiency-status.js';
import { describeError } from './error-messages.js';
import { loadFiringAlerts } from './firing-alerts.js';
import { fleetRow } from './fleet-row.js';
import { dateTimeFormat, formatNumber, parseDate } from './format.js';
import { askForKeyIfRefused } from './key-prompt.js';
import { state } from './state.js';
import { FLEET_WINDOW_HOURS, lastHours } from './time-ranges.js';
import { loadVehicle, showVehicle } from './vehicle-view.js';

const PAGE_SIZE = 50;

const windowLabel = requireElement('window-label', HTMLElement);
const thresholdLabel = requireElement('threshold-label', HTMLElement);
const fleetRows = requireElement('fleet-rows', HTMLTableSectionElement);
const fleetCount = requireElement('fleet-count', HTMLElement);
const fleetEmpty = requireElement('fleet-empty', HTMLElement);
const fleetError = requireElement('fleet-error', HTMLElement);
const loadMoreButton = requireElement('load-more', HTMLButtonElement);
const refreshButton = requireElement('refresh', HTMLButtonElement);

/** @type {string | null} the API's cursor to the next page; null on the last one */
let nextCursor = null;

/** @param {string} text '' hides the message */
export const showFleetError = (text) => setMessage(fleetError, text);

/** Loads the fleet's first page again (replacing the rows), and the firing alerts above it. */
export const loadFleet = async () => {
  await Promise.all([loadPage(false), loadFiringAlerts()]);
};

/** @param {boolean} more the next page, added to the rows */
async function loadPage(more) {
  const request = state.fleetRequests.start();
  let query;
  if (more && nextCursor) {
    // The cursor carries the first page's window, sort and filter.
    query = new URLSearchParams({ cursor: nextCursor, limit: String(PAGE_SIZE) });
  } else {
    // sort=flagged: low vehicles, then implausible ones, then the rest, across all pages.
    query = new URLSearchParams({ ...lastHours(FLEET_WINDOW_HOURS), sort: 'flagged', limit: String(PAGE_SIZE) });
  }
  const page = await fetchFleetPage(query);
  if (!state.fleetRequests.isLatest(request)) return;
  showFleetError('');
  const items = Array.isArray(page.items) ? page.items : [];
  if (!more) state.items = [];
  const seen = new Set(state.items.map((item) => item.vehicleId));
  for (const item of items) if (!seen.has(item.vehicleId)) state.items.push(item);
  nextCursor = typeof page.nextCursor === 'string' ? page.nextCursor : null;
  if (typeof page.efficiencyThreshold === 'number') state.threshold = page.efficiencyThreshold;
  if (!more && page.window) {
    const from = parseDate(page.window.from);
    const to = parseDate(page.window.to);
    if (from && to)
      windowLabel.textContent = 'Fleet window: ' + dateTimeFormat.format(from) + ' – ' + dateTimeFormat.format(to);
  }
  render();
}

function render() {
  thresholdLabel.textContent = formatNumber(state.threshold, 2);
  // The API's order (sort=flagged): flagged vehicles first.
  fleetRows.replaceChildren(...state.items.map((item) => fleetRow(item, item.vehicleId === state.selected)));
  fleetEmpty.hidden = state.items.length > 0;
  loadMoreButton.hidden = !nextCursor;
  const flagged = state.items.filter((item) => isFlagged(item.efficiencyStatus)).length;
  fleetCount.textContent =
    state.items.length +
    ' vehicle' +
    (state.items.length === 1 ? '' : 's') +
    (nextCursor ? ' loaded' : '') +
    ', ' +
    flagged +
    ' flagged';
}

/** @param {string} vehicleId */
function selectVehicle(vehicleId) {
  for (const row of fleetRows.querySelectorAll('tr')) {
    row.classList.toggle('selected', row.dataset.vehicleId === vehicleId);
  }
  showVehicle(vehicleId);
}

export function listenToFleetTable() {
  fleetRows.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const row = target ? target.closest('tr[data-vehicle-id]') : null;
    if (row instanceof HTMLElement && row.dataset.vehicleId) selectVehicle(row.dataset.vehicleId);
  });

  loadMoreButton.addEventListener('click', async () => {
    loadMoreButton.disabled = true;
    try {
      await loadPage(true);
    } catch (err) {
      if (!askForKeyIfRefused(err)) showFleetError('More vehicles could not be loaded: ' + describeError(err));
    } finally {
      loadMoreButton.disabled = false;
    }
  });

  refreshButton.addEventListener('click', async () => {
    refreshButton.disabled = true;
    try {
      await loadFleet();
      await loadVehicle();
    } catch (err) {
      if (!askForKeyIfRefused(err)) showFleetError('The fleet could not be loaded: ' + describeError(err));
    } finally {
      refreshButton.disabled = false;
    }
  });
}
