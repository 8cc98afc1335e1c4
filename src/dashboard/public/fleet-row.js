// @ts-check
// One vehicle's row of the fleet table.
import { isFlagged, statusBadge } from './efficiency-status.js';
import { dateTimeFormat, formatAgo, formatNumber, formatPercent, parseDate } from './format.js';
/** @import { FleetItem } from './api-client.js' */

/**
 * @param {string} text
 * @param {string} [className]
 */
function cell(text, className) {
  const td = document.createElement('td');
  if (className) td.className = className;
  td.textContent = text;
  return td;
}

/**
 * @param {FleetItem} item
 * @param {boolean} selected its charts are shown
 * @returns {HTMLTableRowElement} with data-vehicle-id, which a click on the row selects
 */
export function fleetRow(item, selected) {
  const tr = document.createElement('tr');
  tr.dataset.vehicleId = item.vehicleId;
  tr.dataset.status = item.efficiencyStatus;
  if (isFlagged(item.efficiencyStatus)) tr.classList.add('flagged');
  if (selected) tr.classList.add('selected');

  const name = document.createElement('td');
  const link = document.createElement('button');
  link.type = 'button';
  link.className = 'vehicle-link';
  link.textContent = item.vehicleId;
  name.append(link);

  const status = document.createElement('td');
  status.append(statusBadge(item.efficiencyStatus));

  const live = item.live || null;
  const lastSeen = cell(formatAgo(live ? live.timestamp : null));
  const seenAt = parseDate(live ? live.timestamp : null);
  if (seenAt) lastSeen.title = dateTimeFormat.format(seenAt);

  tr.append(
    name,
    cell(item.meterId || '—'),
    cell(formatNumber(item.efficiencyRatio, 3), 'num'),
    status,
    cell(formatNumber(item.acEnergyKwh, 2), 'num'),
    cell(formatNumber(item.dcEnergyKwh, 2), 'num'),
    cell(formatNumber(item.avgBatteryTempC, 1), 'num'),
    cell(live ? formatPercent(live.soc) : '—', 'num'),
    cell(live ? formatNumber(live.batteryTemp, 1) : '—', 'num'),
    lastSeen,
  );
  return tr;
}
