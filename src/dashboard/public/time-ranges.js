// @ts-check
// The spans of time the page asks the API about, always ending now.

const HOUR_MS = 3_600_000;

/** The fleet table covers the last day. */
export const FLEET_WINDOW_HOURS = 24;

/** The vehicle view's ranges (the buttons' data-range), in hourly buckets. */
export const VEHICLE_RANGES = {
  '24h': { hours: 24, bucket: '1h', label: 'last 24 hours' },
  '7d': { hours: 24 * 7, bucket: '1h', label: 'last 7 days' },
};

/** @typedef {keyof typeof VEHICLE_RANGES} VehicleRange */

/**
 * @param {string | undefined} name
 * @returns {name is VehicleRange}
 */
export const isVehicleRange = (name) => typeof name === 'string' && Object.hasOwn(VEHICLE_RANGES, name);

/**
 * The last `hours` hours, as the API's `from` and `to`.
 * @param {number} hours
 * @returns {import('./api-client.js').TimeSpan}
 */
export function lastHours(hours) {
  const to = new Date();
  const from = new Date(to.getTime() - hours * HOUR_MS);
  return { from: from.toISOString(), to: to.toISOString() };
}
