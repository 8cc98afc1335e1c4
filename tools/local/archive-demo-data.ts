/** What `npm run local:archive-demo` writes (tools/local/archive-demo.ts), for its test too. */
export const DEMO_METER = 'demo-meter-1';
export const DEMO_VEHICLE = 'demo-ev-1';
/** Whole UTC days, this many days ago: older than the 30-day hot period. */
export const DEMO_DAYS = { from: 40, to: 35 };
/** One reading of each device every 5 minutes. */
export const DEMO_STEP_MINUTES = 5;
