import type { Db } from '../db/database.js';
import type { ServiceJob } from '../jobs/job-scheduler.js';
import type { Logger } from '../logger.js';
import { fireAlert, resolveAlert } from './alert-changes.js';
import { observe, type Observation } from './alert-conditions.js';
import { findRule, listRules, lockRule, markRuleEvaluated, type StoredRule } from './alert-rule.repository.js';
import { nextTransition } from './alert-transition.js';
import { findOpenAlerts, insertAlert, insertEvaluation, updateAlert, type StoredAlert } from './alert.repository.js';
import { isoDurationMs } from './iso-duration.js';

/**
 * The alert evaluator: on every run, each enabled rule's condition is judged for each subject
 * (vehicle, meter or stream) it covers, from the same figures the API answers
 * (alert-conditions.ts), and each subject's alert moves through its states:
 *
 *   (none) --holds--> PENDING --held for `for`--> FIRING ---------------> alert.firing
 *     |                  |                           |
 *     |                  | stops holding             | stops holding, or the rule is
 *     |                  v                           v   disabled or deleted
 *     |            RESOLVED (no event)            RESOLVED -------------> alert.resolved
 *     |
 *     +--holds and `for` is zero: straight to FIRING (alert.firing)
 *
 * - A resolved alert stays as history; when the condition holds again a NEW alert starts
 *   pending, so it fires again only after a new full `for`: a flapping condition never pages
 *   more than once per `for` of continuous holding (alert-transition.ts).
 * - Each change and its webhook event (src/webhooks, the outbox) commit in one transaction, so
 *   an event exists exactly when its change does, and a crash loses neither.
 * - Several instances: the figures are read first (the analytics' own read-only snapshot),
 *   then the rule's row is locked (SELECT … FOR UPDATE) for the transaction that moves its
 *   alerts. A second instance waits for the lock, then finds the rule evaluated a moment ago
 *   (`evaluated_at`, within half an interval) and skips it; had it not skipped, it would read the
 *   alerts the first one stored and the same figures would move nothing twice: the partial
 *   unique index (alerts_one_open) keeps one open alert per rule and subject whatever happens.
 * - A rule changed (PATCH) between the read of the figures and the lock is skipped this round:
 *   its figures were read with the old parameters.
 * - A rule changed while an alert fires keeps the alert; the next evaluation judges it with the
 *   new parameters (and resolves it if it no longer holds). Disabling or deleting a rule resolves
 *   its open alerts at once (alert-rules.service.ts).
 */
export interface AlertEvaluatorOptions {
  intervalMs: number;
  /** A rule evaluated less than this long before `now` is skipped (another instance just did it). */
  minGapMs?: number;
}

export interface EvaluationSummary {
  rules: number;
  fired: number;
  resolved: number;
}

export class AlertEvaluator implements ServiceJob {
  readonly name = 'alert-evaluation';
  readonly intervalMs: number;
  private readonly minGapMs: number;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    options: AlertEvaluatorOptions,
  ) {
    this.intervalMs = options.intervalMs;
    this.minGapMs = options.minGapMs ?? options.intervalMs / 2;
  }

  run(): Promise<EvaluationSummary> {
    return this.evaluateAll(new Date());
  }

  /** Evaluates every enabled rule as of `now` (tests pass their own). */
  async evaluateAll(now: Date, options: { minGapMs?: number } = {}): Promise<EvaluationSummary> {
    const summary: EvaluationSummary = { rules: 0, fired: 0, resolved: 0 };
    for (const rule of await listRules(this.db, { enabledOnly: true })) {
      try {
        const outcome = await this.evaluateRule(rule, now, options.minGapMs ?? this.minGapMs);
        summary.rules += 1;
        summary.fired += outcome.fired;
        summary.resolved += outcome.resolved;
      } catch (error) {
        // One rule's failure (e.g. a window the analytics refuse) does not stop the others.
        this.logger.warn('alert rule evaluation failed', { ruleId: rule.id, err: error });
      }
    }
    return summary;
  }

  /** Evaluates one rule by id (tests). */
  async evaluateRuleById(id: number, now: Date): Promise<{ fired: number; resolved: number }> {
    const rule = await findRule(this.db, id);
    if (!rule?.enabled) return { fired: 0, resolved: 0 };
    return this.evaluateRule(rule, now, 0);
  }

  private async evaluateRule(rule: StoredRule, now: Date, minGapMs: number) {
    const observations = await observe(this.db, rule, now);
    return this.db.transaction().execute(async (trx) => {
      const locked = await lockRule(trx, rule.id);
      const outcome = { fired: 0, resolved: 0 };
      if (!locked?.enabled || locked.updated_at.getTime() !== rule.updated_at.getTime()) return outcome;
      if (locked.evaluated_at !== null && now.getTime() - locked.evaluated_at.getTime() < minGapMs) return outcome;
      const forMs = isoDurationMs(locked.for_duration);
      const open = new Map((await findOpenAlerts(trx, locked.id)).map((a) => [`${a.subject_kind}/${a.device_id}`, a]));
      const seen = new Set<string>();
      for (const observation of observations) {
        const key = `${observation.subjectKind}/${observation.deviceId}`;
        seen.add(key);
        const change = await this.apply(trx, locked, open.get(key) ?? null, observation, now, forMs);
        outcome.fired += change === 'fired' ? 1 : 0;
        outcome.resolved += change === 'resolved' ? 1 : 0;
      }
      // An open alert whose subject the evaluation no longer sees (out of scope, no event in the window).
      for (const [key, alert] of open) {
        if (seen.has(key)) continue;
        const gone = { subjectKind: alert.subject_kind, deviceId: alert.device_id, holds: false, value: null };
        const change = await this.apply(trx, locked, alert, { ...gone, figures: {} }, now, forMs);
        outcome.resolved += change === 'resolved' ? 1 : 0;
      }
      await markRuleEvaluated(trx, locked.id, now);
      return outcome;
    });
  }

  /** One subject's transition (alert-transition.ts), stored with its evaluation and event. */
  private async apply(
    trx: Db,
    rule: StoredRule,
    open: StoredAlert | null,
    observation: Observation,
    now: Date,
    forMs: number,
  ): Promise<'fired' | 'resolved' | 'none'> {
    const current = open && { state: open.state as 'pending' | 'firing', startedAt: open.started_at };
    const transition = nextTransition(current, observation.holds, now, forMs);
    const { holds, value, figures } = observation;
    // Figures of a subject no longer seen stay those of its last evaluation.
    const kept = Object.keys(figures).length > 0 ? figures : (open?.figures ?? {});
    let alert: StoredAlert;
    let result: 'fired' | 'resolved' | 'none' = 'none';
    switch (transition.action) {
      case 'none':
        return 'none';
      case 'open':
        alert = await insertAlert(trx, {
          ruleId: rule.id,
          subjectKind: observation.subjectKind,
          deviceId: observation.deviceId,
          state: transition.firing ? 'firing' : 'pending',
          startedAt: now,
          firedAt: transition.firing ? now : null,
          figures,
        });
        if (transition.firing) {
          await fireAlert(trx, alert, rule);
          result = 'fired';
        }
        break;
      case 'fire':
        alert = await updateAlert(trx, open!.id, { state: 'firing', firedAt: now, figures });
        await fireAlert(trx, alert, rule);
        result = 'fired';
        break;
      case 'keep':
        alert = await updateAlert(trx, open!.id, { figures });
        break;
      case 'resolve':
        alert = await resolveAlert(trx, open!, rule, { at: now, reason: 'condition_cleared', figures: kept });
        result = transition.notify ? 'resolved' : 'none';
        break;
    }
    await insertEvaluation(trx, { alertId: alert.id, at: now, holds, value, figures: kept });
    return result;
  }
}
