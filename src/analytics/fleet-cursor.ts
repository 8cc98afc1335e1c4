import { z } from 'zod';

import { AppError } from '../http/app-error.js';
import { FLEET_SORTS } from './analytics.schema.js';

/** Everything a next page needs: the first page's window, sort and filter, and where it ended. */
const cursorSchema = z.object({
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  sort: z.enum(FLEET_SORTS),
  belowThreshold: z.boolean(),
  after: z.object({ key: z.number().nullable(), vehicleId: z.string() }),
});

export type FleetCursor = z.infer<typeof cursorSchema>;

/** Opaque to clients: base64url JSON. Sort keys are short decimals and survive JSON exactly. */
export function encodeFleetCursor(cursor: FleetCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

export function decodeFleetCursor(text: string): FleetCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const result = cursorSchema.safeParse(parsed);
  if (!result.success) {
    throw AppError.validation([{ path: 'query.cursor', message: 'is not a cursor this service issued' }]);
  }
  return result.data;
}
