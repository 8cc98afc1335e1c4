import { z } from 'zod';

import type { AppContext } from '../http/validate.js';
import type { ReadSource } from './read-router.js';

/**
 * How fresh a read is, on every analytics and live answer: headers rather than body fields,
 * so that the bodies stay what they were and the same three headers mean the same thing on
 * every route (documented in the API reference through the route's `response.headers`).
 */
export const freshnessHeaders = z.object({
  'X-Data-Source': z.enum(['primary', 'replica']).meta({
    description: 'Which database answered: the primary, or a read replica (`ANALYTICS_DATABASE_URL`).',
  }),
  'X-Data-As-Of': z.iso.datetime().meta({
    description:
      'Every reading acknowledged (202) before this instant, by any instance, is in the answer. From a replica: ' +
      "the primary's clock when the request took its fence; from the primary: when the read began.",
  }),
  'X-Replica-Lag-Ms': z.int().min(0).optional().meta({
    description:
      'Replica answers only: milliseconds from the fence to seeing it replayed on the replica (an upper bound of its lag).',
  }),
});

export function setFreshness(ctx: AppContext, source: ReadSource): void {
  ctx.set('X-Data-Source', source.kind);
  ctx.set('X-Data-As-Of', source.asOf.toISOString());
  if (source.kind === 'replica') ctx.set('X-Replica-Lag-Ms', String(Math.max(0, Math.round(source.lagMs))));
}
