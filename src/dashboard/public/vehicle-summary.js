// @ts-check
// The key figures above one vehicle's charts.
import { requireElement } from './dom.js';
import { statusBadge } from './efficiency-status.js';
import { dateTimeFormat, formatAgo, formatNumber, formatPercent } from './format.js';
/** @import { FleetItem, PerformanceReport } from './api-client.js' */

const vehicleStatus = requireElement('vehicle-status', HTMLElement);
const vehicleSummary = requireElement('vehicle-summary', HTMLElement);

/**
 * The meters that measured the vehicle during the range, with when it moved between them
 * (the assignment history as the analytics used it).
 * @param {PerformanceReport} totals
 */
function describeMeters(totals) {
  if (totals.meters.length === 0) return '—';
  if (totals.meters.length === 1) return totals.meters[0]?.meterId ?? '—';
  return totals.meters
    .map((span, i) => (i === 0 ? span.meterId : `${span.meterId} from ${dateTimeFormat.format(new Date(span.from))}`))
    .join(', ');
}

/**
 * @param {PerformanceReport} totals the vehicle's figures over the chosen range
 * @param {FleetItem['live']} live its latest reading, as the fleet table has it
 */
export function renderVehicleSummary(totals, live) {
  vehicleStatus.replaceChildren(statusBadge(totals.efficiencyStatus));
  const coverage = totals.coverage || null;
  /** @type {[string, string][]} */
  const entries = [
    ['Meters', describeMeters(totals)],
    ['Efficiency', formatNumber(totals.efficiencyRatio, 3)],
    ['AC drawn', formatNumber(totals.acEnergyKwh, 2) + ' kWh'],
    ['DC delivered', formatNumber(totals.dcEnergyKwh, 2) + ' kWh'],
    ['Avg battery', formatNumber(totals.avgBatteryTempC, 1) + ' °C'],
    ['SOC range', formatPercent(totals.socMin) + ' – ' + formatPercent(totals.socMax)],
    [
      'Coverage (meter / vehicle)',
      formatPercent(coverage && coverage.meter * 100) + ' / ' + formatPercent(coverage && coverage.vehicle * 100),
    ],
    ['Live SOC', live ? formatPercent(live.soc) : '—'],
    ['Live battery', live ? formatNumber(live.batteryTemp, 1) + ' °C' : '—'],
    ['Last seen', formatAgo(live ? live.timestamp : null)],
  ];
  vehicleSummary.replaceChildren(
    ...entries.map(([term, value]) => {
      const wrapper = document.createElement('div');
      const dt = document.createElement('dt');
      dt.textContent = term;
      const dd = document.createElement('dd');
      dd.textContent = value;
      wrapper.append(dt, dd);
      return wrapper;
    }),
  );
}
