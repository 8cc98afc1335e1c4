// @ts-check
// The vehicle panel: one vehicle's summary and hourly charts over the last day or week.
import { fetchPerformance, fetchPerformanceSeries } from './api-client.js';
import { renderCharts } from './charts.js';
import { requireElement, setMessage } from './dom.js';
import { describeError } from './error-messages.js';
import { dayHourFormat, formatNumber } from './format.js';
import { askForKeyIfRefused } from './key-prompt.js';
import { loadRegisterEvents } from './register-events.js';
import { state } from './state.js';
import { isVehicleRange, lastHours, VEHICLE_RANGES } from './time-ranges.js';
import { renderVehicleSummary } from './vehicle-summary.js';
/** @import { VehicleRange } from './time-ranges.js' */

const vehiclePanel = requireElement('vehicle-panel', HTMLElement);
const vehicleTitle = requireElement('vehicle-title', HTMLElement);
const vehicleError = requireElement('vehicle-error', HTMLElement);
const thresholdCaption = requireElement('threshold-caption', HTMLElement);
const registerEventsNote = requireElement('register-events', HTMLElement);
const rangeButtons = Array.from(document.querySelectorAll('[data-range]')).filter(
  (button) => button instanceof HTMLButtonElement,
);

/** @type {VehicleRange} */
let range = '24h';

/**
 * Shows this vehicle's panel and loads its figures.
 * @param {string} vehicleId
 */
export function showVehicle(vehicleId) {
  state.selected = vehicleId;
  vehiclePanel.hidden = false;
  void loadVehicle();
  vehiclePanel.scrollIntoView({ block: 'start' });
}

export function listenToRangeButtons() {
  for (const button of rangeButtons) {
    button.addEventListener('click', () => {
      const chosen = button.dataset.range;
      if (!isVehicleRange(chosen) || chosen === range) return;
      range = chosen;
      for (const other of rangeButtons) other.setAttribute('aria-pressed', String(other === button));
      if (state.selected) void loadVehicle();
    });
  }
}

/**
 * Loads the shown vehicle's figures (again), if one is shown. Never rejects: errors are shown on
 * the panel or bring the key prompt back.
 */
export async function loadVehicle() {
  const vehicleId = state.selected;
  if (!vehicleId) return;
  const rangeShown = range;
  const { hours, bucket, label } = VEHICLE_RANGES[rangeShown];
  const request = state.vehicleRequests.start();
  // data-state, data-vehicle-id and data-range tell what the panel shows (the browser test waits on them).
  vehiclePanel.dataset.state = 'loading';
  vehiclePanel.dataset.vehicleId = vehicleId;
  vehiclePanel.dataset.range = rangeShown;
  vehicleTitle.textContent = vehicleId + ', ' + label;
  thresholdCaption.textContent = formatNumber(state.threshold, 2);
  setMessage(vehicleError, '');

  const span = lastHours(hours);
  try {
    const [series, totals] = await Promise.all([
      fetchPerformanceSeries(vehicleId, span, bucket),
      fetchPerformance(vehicleId, span),
    ]);
    if (!state.vehicleRequests.isLatest(request)) return;
    if (typeof series.efficiencyThreshold === 'number') state.threshold = series.efficiencyThreshold;
    thresholdCaption.textContent = formatNumber(state.threshold, 2);
    const fleetItem = state.items.find((item) => item.vehicleId === totals.vehicleId);
    renderVehicleSummary(totals, fleetItem && fleetItem.live ? fleetItem.live : null);
    const points = Array.isArray(series.points) ? series.points : [];
    const events = await loadRegisterEvents(totals, span);
    if (!state.vehicleRequests.isLatest(request)) return;
    showRegisterEvents(events);
    if (!renderCharts(points, rangeShown, state.threshold, events)) {
      setMessage(vehicleError, 'The chart library did not load (/dashboard/vendor/chart.umd.min.js).');
    }
    vehiclePanel.dataset.state = 'ready';
  } catch (err) {
    if (!state.vehicleRequests.isLatest(request)) return;
    vehiclePanel.dataset.state = 'error';
    if (!askForKeyIfRefused(err)) {
      setMessage(vehicleError, 'The charts for ' + vehicleId + ' could not be loaded: ' + describeError(err));
    }
  }
}

/**
 * Lists the register events under the energy chart (hidden when there are none).
 * @param {import('./register-events.js').DeviceRegisterEvent[]} events
 */
function showRegisterEvents(events) {
  vehiclePanel.dataset.registerEvents = String(events.length);
  registerEventsNote.hidden = events.length === 0;
  registerEventsNote.textContent =
    events.length === 0
      ? ''
      : 'Register events (energy counted from zero after a reset; a jump counts 0): ' +
        events
          .map(
            (e) =>
              e.device +
              ' ' +
              e.event +
              ' at ' +
              dayHourFormat.format(e.at) +
              ' (' +
              formatNumber(e.kwhRegister, 3) +
              ' kWh)',
          )
          .join('; ');
}
