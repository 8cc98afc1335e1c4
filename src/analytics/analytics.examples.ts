import type { FleetPage, PerformanceReport, SeriesReport } from './analytics.schema.js';

/**
 * What the API reference shows for a success: realistic answers (a charging day of ev-42 on
 * meter-17), typed by the response types so they cannot drift from the schemas (and
 * test/openapi.test.ts validates them against the document).
 */
const window = { from: '2026-11-26T00:00:00.000Z', to: '2026-11-27T00:00:00.000Z' };
const meters = [{ meterId: 'meter-17', ...window }];
const figures = {
  acEnergyKwh: 38.42,
  dcEnergyKwh: 35.19,
  efficiencyRatio: 0.915929,
  efficiencyStatus: 'normal' as const,
  avgBatteryTempC: 28.4,
  readings: { meter: 1436, vehicle: 1431 },
};

export const performanceExample: PerformanceReport = {
  vehicleId: 'ev-42',
  meterId: 'meter-17',
  meters,
  window,
  ...figures,
  efficiencyThreshold: 0.85,
  socMin: 18,
  socMax: 96,
  coverage: { expectedReadings: 1440, meter: 0.9972, vehicle: 0.9938 },
};

export const seriesExample: SeriesReport = {
  vehicleId: 'ev-42',
  meterId: 'meter-17',
  meters,
  window: { from: '2026-11-26T08:00:00.000Z', to: '2026-11-26T10:00:00.000Z' },
  bucket: '1h',
  efficiencyThreshold: 0.85,
  points: [
    {
      start: '2026-11-26T08:00:00.000Z',
      end: '2026-11-26T09:00:00.000Z',
      acEnergyKwh: 7.2,
      dcEnergyKwh: 6.58,
      efficiencyRatio: 0.913889,
      efficiencyStatus: 'normal',
      avgBatteryTempC: 29.1,
      readings: { meter: 60, vehicle: 60 },
    },
    {
      start: '2026-11-26T09:00:00.000Z',
      end: '2026-11-26T10:00:00.000Z',
      acEnergyKwh: 0.03,
      dcEnergyKwh: 0,
      efficiencyRatio: 0,
      efficiencyStatus: 'insufficient_data',
      avgBatteryTempC: 24.2,
      readings: { meter: 60, vehicle: 60 },
    },
  ],
};

export const fleetExample: FleetPage = {
  window,
  efficiencyThreshold: 0.85,
  sort: 'efficiency',
  belowThreshold: false,
  items: [
    {
      vehicleId: 'ev-17',
      meterId: 'meter-03',
      meters: [{ meterId: 'meter-03', ...window }],
      acEnergyKwh: 29.56,
      dcEnergyKwh: 20.33,
      efficiencyRatio: 0.687754,
      efficiencyStatus: 'low',
      avgBatteryTempC: 31.2,
      readings: { meter: 1440, vehicle: 1440 },
      live: { soc: 71, batteryTemp: 30.8, kwhDeliveredDc: 0.11, timestamp: '2026-11-26T23:59:12.000Z' },
    },
    {
      vehicleId: 'ev-42',
      ...figures,
      meterId: 'meter-17',
      meters,
      live: { soc: 96, batteryTemp: 27.5, kwhDeliveredDc: 0, timestamp: '2026-11-26T23:59:40.000Z' },
    },
  ],
  nextCursor: null,
};
