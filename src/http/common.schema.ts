import { z } from 'zod';

/**
 * The instants an ISO-8601 text and the database both hold: years 0001 to 9999 in UTC. An
 * offset can carry a text inside those years out of them (`0001-01-01T00:00:00+01:00` is year
 * 0000 in UTC, which PostgreSQL refuses; past 9999 `toISOString` writes `+010000-…`).
 */
const FIRST_INSTANT_MS = new Date('0001-01-01T00:00:00.000Z').getTime();
const LAST_INSTANT_MS = new Date('9999-12-31T23:59:59.999Z').getTime();
export const instantRange = (date: Date) => date.getTime() >= FIRST_INSTANT_MS && date.getTime() <= LAST_INSTANT_MS;
const OUT_OF_RANGE = 'must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z (in UTC)';

/** An instant in a request (query or body): ISO-8601 with a zone, handed on as a Date. */
export const instantInput = z.iso
  .datetime({ offset: true, message: 'must be an ISO-8601 date-time with a time zone (Z or +hh:mm)' })
  .transform((text) => new Date(text))
  .refine(instantRange, OUT_OF_RANGE);

/** An instant in a query string. */
// No example: "Try it out" would send the same one as `from` and `to` (an empty window);
// left empty, the defaults apply (the last 24 hours).
export const instantQuery = instantInput.meta({
  description: 'ISO-8601 date-time with a time zone, e.g. `2026-11-27T00:00:00Z`',
});

/** How many rows a listing returns: 1 to 1,000, 100 by default. */
export const pageLimitQuery = z.coerce
  .number({ message: 'must be a number' })
  .int('must be an integer')
  .min(1, 'must be between 1 and 1000')
  .max(1000, 'must be between 1 and 1000')
  .default(100);

/** An instant in a response: always UTC with milliseconds, as `Date.toISOString()` writes it. */
export const instantJson = z.iso.datetime().meta({ example: '2026-11-27T00:00:00.000Z' });

export const errorResponse = z
  .object({
    error: z.object({
      // No example here: each error response of the reference shows its own codes (openapi.document.ts).
      code: z.string().meta({ description: 'Stable, machine-readable error code' }),
      message: z.string(),
      details: z
        .array(
          z.object({
            index: z
              .number()
              .int()
              .optional()
              .meta({ description: 'Position (0-based) of the reading or entry in a JSON batch' }),
            line: z.number().int().optional().meta({ description: 'Line (1-based) of a CSV body' }),
            path: z.string().meta({ description: 'The field, e.g. `kwhConsumedAc` or `query.from`' }),
            message: z.string(),
            conflict: z
              .object({
                assignmentId: z.number().int(),
                vehicleId: z.string(),
                meterId: z.string(),
                from: instantJson.nullable().meta({ description: 'null: since the beginning' }),
                to: instantJson.nullable().meta({ description: 'null: open-ended (in force now)' }),
              })
              .optional()
              .meta({ description: 'For assignment_conflict: the assignment the request collides with' }),
          }),
        )
        .optional(),
    }),
  })
  .meta({ id: 'Error' });
