/** Progress lines go to stderr, so stdout holds only the report. */
export const log = (message: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
