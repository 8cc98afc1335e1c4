import { z } from 'zod';

import { AppError } from '../http/app-error.js';
import { instantRange } from '../http/common.schema.js';
import { deviceIdSchema } from '../http/device-id.schema.js';
import { FLEET_SORTS } from './analytics.schema.js';

/** A cursor's instant: as this service writes them, and one the database can hold. */
const cursorInstant = z.iso.datetime().refine((text) => instantRange(new Date(text)));

/**
 * Everything a next page needs: the first page's window, sort and filter, and where it ended.
 * A cursor is client input like any other: its parts are checked as strictly as the query's
 * (a vehicle id that could never have been issued, e.g. holding a NUL, is refused here).
 */
const cursorSchema = z.object({
  from: cursorInstant,
  to: cursorInstant,
  sort: z.enum(FLEET_SORTS),
  belowThreshold: z.boolean(),
  after: z.object({ key: z.number().finite().nullable(), vehicleId: deviceIdSchema }),
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
