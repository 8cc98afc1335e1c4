// @ts-check
// How numbers and instants read on the page, in the browser's locale.

/**
 * @param {number | null | undefined} value
 * @param {number} digits fraction digits, always shown
 * @returns {string} a dash for a missing or non-finite value
 */
export function formatNumber(value, digits) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '—';
  return value.toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** @param {number | null | undefined} value already in percent (0-100) */
export const formatPercent = (value) =>
  typeof value === 'number' && Number.isFinite(value) ? formatNumber(value, 0) + ' %' : '—';

export const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export const hourFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
export const dayHourFormat = new Intl.DateTimeFormat(undefined, {
  weekday: 'short',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/**
 * @param {string | null | undefined} text an instant as the API writes it
 * @returns {Date | null} null when there is none or it is not a date
 */
export function parseDate(text) {
  if (typeof text !== 'string') return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}

/**
 * "42 s ago", "3 min ago", … ; an instant in the future (a skewed clock) as a date.
 * @param {string | null | undefined} text
 */
export function formatAgo(text) {
  const date = parseDate(text);
  if (!date) return '—';
  const seconds = Math.round((Date.now() - date.getTime()) / 1000);
  if (seconds < 0) return dateTimeFormat.format(date);
  if (seconds < 60) return seconds + ' s ago';
  if (seconds < 3600) return Math.floor(seconds / 60) + ' min ago';
  if (seconds < 86_400) return Math.floor(seconds / 3600) + ' h ago';
  return Math.floor(seconds / 86_400) + ' d ago';
}
