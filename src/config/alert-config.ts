import { z } from 'zod';

import { SECOND_MS } from '../time.js';
import { optional } from './env-fields.js';

/** Alert settings (src/alerts, docs/alerts.md), parsed with the rest by config.ts. */
export interface AlertConfig {
  /** How often the evaluator judges every enabled rule (ALERT_EVALUATION_INTERVAL_S, default 60). */
  evaluationIntervalMs: number;
}

/** The ALERT_* variables: spread into config.ts's environment schema. */
export const alertEnvShape = {
  ALERT_EVALUATION_INTERVAL_S: optional(
    z.coerce
      .number({ message: 'must be a number of seconds' })
      .int('must be a whole number of seconds')
      .min(5, 'must be at least 5 seconds')
      .max(86_400, 'must be at most 86400 seconds (a day)')
      .default(60),
  ),
};

type AlertEnv = { [K in keyof typeof alertEnvShape]: z.output<(typeof alertEnvShape)[K]> };

export function alertConfigFrom(e: AlertEnv): AlertConfig {
  return { evaluationIntervalMs: e.ALERT_EVALUATION_INTERVAL_S * SECOND_MS };
}
