import { z } from 'zod';

/**
 * Field parsers for environment variables, shared by config.ts and its per-feature files.
 * Empty strings count as unset so that `FOO=` in a compose file or shell means "use the default".
 */
export const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema);

/** `true` or `false` (nothing else), `fallback` when unset. */
export const flag = (fallback: 'true' | 'false') =>
  optional(
    z
      .enum(['true', 'false'], { message: 'must be true or false' })
      .default(fallback)
      .transform((value) => value === 'true'),
  );
