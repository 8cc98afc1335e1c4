import { AppError } from '../http/app-error.js';
import { DAY_MS } from '../time.js';

export const DEFAULT_WINDOW_MS = DAY_MS;
export const MAX_WINDOW_MS = 31 * DAY_MS;

export interface Window {
  from: Date;
  to: Date;
}

/** The window an analytics request asks for: defaults filled in, then checked. */
export function resolveWindow(query: { from?: Date | undefined; to?: Date | undefined }, now = new Date()): Window {
  const to = query.to ?? now;
  const from = query.from ?? new Date(to.getTime() - DEFAULT_WINDOW_MS);
  if (from.getTime() >= to.getTime()) {
    throw AppError.validation([{ path: 'query.from', message: 'must be earlier than "to"' }], 'The window is empty.');
  }
  if (to.getTime() - from.getTime() > MAX_WINDOW_MS) {
    throw AppError.validation(
      [{ path: 'query.from', message: 'the window may span at most 31 days' }],
      'The window is too long.',
    );
  }
  return { from, to };
}

/**
 * The window an answer covers, and the one asked for when they differ (edges moved out to the
 * hour where the raw readings were archived: window-snapshot.ts).
 */
export function windowsJson(requested: Window, answered: Window) {
  const json = (w: Window) => ({ from: w.from.toISOString(), to: w.to.toISOString() });
  const same = requested.from.getTime() === answered.from.getTime() && requested.to.getTime() === answered.to.getTime();
  return { window: json(answered), ...(same ? {} : { requestedWindow: json(requested) }) };
}
