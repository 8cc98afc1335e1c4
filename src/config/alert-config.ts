import { z } from 'zod';

import { SECOND_MS } from '../time.js';

/** Alert settings (src/alerts, docs/alerts.md), parsed from the ALERT_* variables. */
export interface AlertConfig {
  /** How often the evaluator judges every enabled rule (ALERT_EVALUATION_INTERVAL_S, default 60). */
  evaluationIntervalMs: number;
}

const alertEnv = z.object({
  ALERT_EVALUATION_INTERVAL_S: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.coerce
      .number({ message: 'must be a number of seconds' })
      .int('must be a whole number of seconds')
      .min(5, 'must be at least 5 seconds')
      .max(86_400, 'must be at most 86400 seconds (a day)')
      .default(60),
  ),
});

/** The alert settings of `env`; the issues, as config.ts reports them, when invalid. */
export function parseAlertConfig(
  env: NodeJS.ProcessEnv,
): { config: AlertConfig; issues?: never } | { config?: never; issues: string[] } {
  const parsed = alertEnv.safeParse(env);
  if (!parsed.success) return { issues: parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`) };
  return { config: { evaluationIntervalMs: parsed.data.ALERT_EVALUATION_INTERVAL_S * SECOND_MS } };
}
