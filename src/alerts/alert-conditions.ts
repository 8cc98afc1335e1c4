import { getFleetPage } from '../analytics/fleet.service.js';
import type { Db } from '../db/database.js';
import { MINUTE_MS } from '../time.js';
import {
  countDeadLetters,
  countRegisterEvents,
  findLastReceived,
  findPeakTemperatures,
} from './alert-conditions.repository.js';
import type { StoredRule } from './alert-rule.repository.js';
import type { AlertSubjectKind } from './alert-rule.table.js';
import { isoDurationMs } from './iso-duration.js';

/** What one evaluation found for one subject of a rule. */
export interface Observation {
  subjectKind: AlertSubjectKind;
  deviceId: string;
  holds: boolean;
  /** The figure compared with the rule (ratio, °C, minutes, count). */
  value: number | null;
  figures: Record<string, unknown>;
}

export const DEFAULT_SILENT_MINUTES = 5;
const FLEET_PAGE = 1000;

const windowOf = (rule: StoredRule, now: Date) => ({
  from: new Date(now.getTime() - isoDurationMs(rule.window_duration ?? 'PT1H')),
  to: now,
});
const iso = (date: Date) => date.toISOString();
const inScope = (rule: StoredRule, deviceId: string) => rule.devices === null || rule.devices.includes(deviceId);

/**
 * Every vehicle's figures over the window exactly as the analytics answer them: the fleet
 * query's rows, which show the same figures as GET /v1/analytics/performance for the window
 * (efficiency-rule.ts), each with the window it covers.
 */
async function fleetFigures(db: Db, window: { from: Date; to: Date }) {
  const rows = [];
  let cursor: string | undefined;
  do {
    const page = await getFleetPage(
      db,
      cursor === undefined
        ? { from: window.from, to: window.to, sort: 'vehicleId', belowThreshold: false, limit: FLEET_PAGE }
        : { cursor, limit: FLEET_PAGE },
    );
    const windows = { window: page.window, ...(page.requestedWindow ? { requestedWindow: page.requestedWindow } : {}) };
    // The live reading is not a figure of the window.
    for (const item of page.items) rows.push({ ...windows, ...item, live: undefined });
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return rows;
}

/**
 * Efficiency below the threshold, judged as the status is (efficiency-rule.ts): only with
 * enough charging (`insufficient_data` and `no_data` never hold) and never for an implausible
 * ratio (above 1, above any threshold).
 */
async function efficiencyBelow(db: Db, rule: StoredRule, now: Date): Promise<Observation[]> {
  const threshold = rule.threshold ?? 0;
  return (await fleetFigures(db, windowOf(rule, now)))
    .filter((row) => inScope(rule, row.vehicleId))
    .map((row) => {
      const judged = row.efficiencyStatus !== 'insufficient_data' && row.efficiencyStatus !== 'no_data';
      const ratio = row.efficiencyRatio;
      return {
        subjectKind: 'vehicle',
        deviceId: row.vehicleId,
        holds: judged && ratio !== null && ratio < threshold,
        value: ratio,
        figures: { ...row, threshold },
      };
    });
}

async function temperatureAbove(db: Db, rule: StoredRule, now: Date): Promise<Observation[]> {
  const threshold = rule.threshold ?? 0;
  const window = windowOf(rule, now);
  if (rule.aggregate === 'max') {
    return (await findPeakTemperatures(db, window, rule.devices)).map((row) => ({
      subjectKind: 'vehicle',
      deviceId: row.vehicle_id,
      holds: row.max_battery_temp > threshold,
      value: row.max_battery_temp,
      figures: {
        window: { from: iso(window.from), to: iso(window.to) },
        maxBatteryTempC: row.max_battery_temp,
        readings: { vehicle: row.readings },
        threshold,
      },
    }));
  }
  return (await fleetFigures(db, window))
    .filter((row) => inScope(rule, row.vehicleId) && row.avgBatteryTempC !== null)
    .map((row) => ({
      subjectKind: 'vehicle',
      deviceId: row.vehicleId,
      holds: row.avgBatteryTempC! > threshold,
      value: row.avgBatteryTempC,
      figures: { window: row.window, avgBatteryTempC: row.avgBatteryTempC, readings: row.readings, threshold },
    }));
}

async function deviceSilent(db: Db, rule: StoredRule, now: Date): Promise<Observation[]> {
  const limitMs = (rule.silent_minutes ?? DEFAULT_SILENT_MINUTES) * MINUTE_MS;
  return (await findLastReceived(db, rule.devices)).map((row) => {
    const silentMs = now.getTime() - row.received_at.getTime();
    return {
      subjectKind: row.kind,
      deviceId: row.device_id,
      holds: silentMs > limitMs,
      value: Math.max(0, Math.floor(silentMs / 1000) / 60),
      figures: {
        lastReceivedAt: iso(row.received_at),
        lastReadingAt: iso(row.ts),
        silentMinutes: Math.max(0, Math.floor(silentMs / MINUTE_MS)),
        minutes: limitMs / MINUTE_MS,
      },
    };
  });
}

async function registerEvents(db: Db, rule: StoredRule, now: Date): Promise<Observation[]> {
  const window = windowOf(rule, now);
  return (await countRegisterEvents(db, window, rule.devices)).map((row) => ({
    subjectKind: row.kind,
    deviceId: row.device_id,
    holds: true,
    value: row.events,
    figures: {
      window: { from: iso(window.from), to: iso(window.to) },
      events: row.events,
      lastEvent: row.last_event,
      lastEventAt: iso(row.last_ts),
    },
  }));
}

async function deadLetters(db: Db, rule: StoredRule, now: Date): Promise<Observation[]> {
  const window = windowOf(rule, now);
  return (await countDeadLetters(db, window)).map((row) => ({
    subjectKind: 'stream',
    deviceId: row.stream_name,
    holds: true,
    value: row.letters,
    figures: {
      window: { from: iso(window.from), to: iso(window.to) },
      deadLetters: row.letters,
      lastReason: row.last_reason,
      lastAt: iso(row.last_at),
    },
  }));
}

const OBSERVERS = {
  efficiency_below: efficiencyBelow,
  battery_temperature_above: temperatureAbove,
  device_silent: deviceSilent,
  register_event: registerEvents,
  dead_letter: deadLetters,
} satisfies Record<StoredRule['kind'], (db: Db, rule: StoredRule, now: Date) => Promise<Observation[]>>;

/**
 * What the rule's condition is for each subject it can see at `now`. A subject missing from the
 * answer (no register event, a vehicle without a meter in the window) does not meet it.
 */
export function observe(db: Db, rule: StoredRule, now: Date): Promise<Observation[]> {
  return OBSERVERS[rule.kind](db, rule, now);
}
