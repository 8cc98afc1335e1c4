import { z } from 'zod';

const instant = z.iso
  .datetime({ offset: true, message: 'must be an ISO-8601 date-time with a time zone (Z or +hh:mm)' })
  .transform((text) => new Date(text));

export const performanceQuery = z.object({
  from: instant.optional(),
  to: instant.optional(),
});
