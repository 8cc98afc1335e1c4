// @ts-check
// The firing alerts (docs/alerts.md), listed above the fleet: what an operator must look at first.
import { fetchFiringAlerts } from './api-client.js';
import { requireElement } from './dom.js';
import { formatAgo, formatNumber } from './format.js';

const panel = requireElement('alerts-panel', HTMLElement);
const list = requireElement('alert-list', HTMLUListElement);

/**
 * The figure that decided the alert, in words.
 * @param {Record<string, unknown>} figures
 */
function describeFigures(figures) {
  const number = (/** @type {string} */ key) => (typeof figures[key] === 'number' ? figures[key] : null);
  const ratio = number('efficiencyRatio');
  if (ratio !== null) return 'efficiency ' + formatNumber(ratio, 3);
  const avg = number('avgBatteryTempC');
  if (avg !== null) return 'average battery ' + formatNumber(avg, 1) + ' °C';
  const peak = number('maxBatteryTempC');
  if (peak !== null) return 'peak battery ' + formatNumber(peak, 1) + ' °C';
  const silent = number('silentMinutes');
  if (silent !== null) return 'silent for ' + silent + ' min';
  const events = number('events');
  if (events !== null) return events + ' register reset(s) or jump(s)';
  const letters = number('deadLetters');
  if (letters !== null) return letters + ' dead letter(s)';
  return 'condition holds';
}

/** Loads the firing alerts; the panel stays hidden when there are none or they cannot be read. */
export async function loadFiringAlerts() {
  /** @type {import('./api-client.js').Alert[]} */
  let items = [];
  try {
    items = (await fetchFiringAlerts()).items;
  } catch {
    // The fleet reports what is wrong with the key or the service; this panel stays out of the way.
  }
  list.replaceChildren(
    ...items.map((alert) => {
      const item = document.createElement('li');
      item.textContent =
        alert.device.kind +
        ' ' +
        alert.device.id +
        ': ' +
        describeFigures(alert.figures) +
        ' (rule ' +
        alert.ruleId +
        ', fired ' +
        formatAgo(alert.firedAt) +
        ')';
      return item;
    }),
  );
  panel.hidden = items.length === 0;
}
