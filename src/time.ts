/** Durations in milliseconds: the one home of time constants (JavaScript time is in ms). */
export const SECOND_MS = 1_000;
export const MINUTE_MS = 60 * SECOND_MS;
export const QUARTER_HOUR_MS = 15 * MINUTE_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** A half-open interval [from, to) in epoch milliseconds. */
export interface Interval {
  from: number;
  to: number;
}

/**
 * PostgreSQL's 'infinity' and '-infinity' timestamps as JavaScript Dates (the largest and
 * smallest a Date holds); the database client maps them both ways.
 */
export const END_OF_TIME = new Date(8.64e15);
export const START_OF_TIME = new Date(-8.64e15);
