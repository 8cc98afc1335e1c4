/**
 * Physical bounds of every reading field, inclusive. The API refuses values outside them
 * (400) and the database holds the same CHECK constraints
 * (migrations/1764201600007_reading_bounds.sql). Energies are per interval (since the
 * device's previous reading): 10,000 kWh is a 1 MW charger running for 10 hours between two
 * readings, far above any real interval yet small enough that every sum the analytics and
 * the aggregates compute stays finite and exact to well below a watt-hour.
 */
export const READING_BOUNDS = {
  kwhConsumedAc: { min: 0, max: 10_000, unit: 'kWh' },
  voltage: { min: 0, max: 1_000, unit: 'V' }, // the low-voltage limit a charger's meter sees
  kwhDeliveredDc: { min: 0, max: 10_000, unit: 'kWh' },
  soc: { min: 0, max: 100, unit: '%' },
  batteryTemp: { min: -50, max: 150, unit: '°C' },
  // Running totals (register readings). The interval energy derived from two of them is
  // held to the interval bound above: a larger increase is a `jump`, stored and counted as 0.
  kwhConsumedAcTotal: { min: 0, max: 1_000_000_000, unit: 'kWh' },
  kwhDeliveredDcTotal: { min: 0, max: 1_000_000_000, unit: 'kWh' },
} as const;

/** The largest interval energy a register reading may add; above it the increase is a `jump`. */
export const MAX_INTERVAL_KWH = READING_BOUNDS.kwhConsumedAc.max;

export type BoundedField = keyof typeof READING_BOUNDS;
