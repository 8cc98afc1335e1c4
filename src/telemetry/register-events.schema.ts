import { z } from 'zod';

import { instantJson, instantQuery, pageLimitQuery } from '../http/common.schema.js';
import { REGISTER_EVENTS } from './register-event.js';

export const registerEventsQuery = z.object({
  from: instantQuery.optional().meta({ description: 'Oldest event (inclusive). Default: the oldest stored reading.' }),
  to: instantQuery.optional().meta({ description: 'Newest event (exclusive). Default: no bound.' }),
  limit: pageLimitQuery.meta({ description: 'At most this many events, oldest first (1 to 1000, default 100)' }),
});

export const registerEvents = z
  .object({
    deviceId: z.string(),
    events: z.array(
      z.object({
        timestamp: instantJson.meta({ description: 'Device timestamp of the register reading' }),
        event: z.enum(REGISTER_EVENTS).meta({
          description:
            '`first`: no earlier register reading is stored (baseline, 0 kWh); `reset`: the register went down, the ' +
            'reading counts from zero; `jump`: the increase is above the interval bound, counted as 0 kWh',
        }),
        kwhRegister: z.number().meta({ description: 'The register the reading carried' }),
        kwhCounted: z.number().meta({ description: 'The interval energy the analytics count for this reading' }),
      }),
    ),
    truncated: z.boolean().meta({ description: 'More events match: ask again from the last timestamp returned' }),
  })
  .meta({ id: 'RegisterEvents' });

export type RegisterEvents = z.infer<typeof registerEvents>;
