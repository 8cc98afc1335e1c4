// @ts-check
// Register resets and jumps of the vehicle and of the meters that served it, for the vehicle
// view: the API's events, listed under the energy chart and marked on it (charts.js).
import { fetchRegisterEvents } from './api-client.js';
import { parseDate } from './format.js';
/** @import { PerformanceReport, TimeSpan } from './api-client.js' */

/**
 * @typedef {{ at: Date, device: string, event: string, kwhRegister: number }} DeviceRegisterEvent
 */

/**
 * The vehicle's own events and each meter's within the part of the span it served the vehicle.
 * Events other than `first` only: the first reading of a register is its baseline, not news.
 * @param {PerformanceReport} totals
 * @param {TimeSpan} span
 * @returns {Promise<DeviceRegisterEvent[]>}
 */
export async function loadRegisterEvents(totals, span) {
  const requests = [
    { kind: /** @type {const} */ ('vehicles'), id: totals.vehicleId, span },
    ...totals.meters.map((m) => ({
      kind: /** @type {const} */ ('meters'),
      id: m.meterId,
      span: { from: m.from, to: m.to },
    })),
  ];
  const answers = await Promise.all(requests.map((r) => fetchRegisterEvents(r.kind, r.id, r.span)));
  /** @type {DeviceRegisterEvent[]} */
  const events = [];
  for (const answer of answers) {
    for (const e of answer.events) {
      const at = parseDate(e.timestamp);
      if (at && e.event !== 'first')
        events.push({ at, device: answer.deviceId, event: e.event, kwhRegister: e.kwhRegister });
    }
  }
  return events.sort((a, b) => a.at.getTime() - b.at.getTime());
}
