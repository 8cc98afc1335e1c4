/**
 * The state machine of one alert (one rule and one subject), as a pure function of what is
 * stored and what the latest evaluation found; alert-evaluator.ts applies its answer. See the
 * diagram there and docs/alerts.md.
 */

/** The subject's open alert, if any. */
export interface OpenAlert {
  state: 'pending' | 'firing';
  /** Since when the condition holds. */
  startedAt: Date;
}

export type Transition =
  /** No open alert and the condition does not hold: nothing to store. */
  | { action: 'none' }
  /** The condition starts to hold: a new alert, firing at once when `for` is zero. */
  | { action: 'open'; firing: boolean }
  /** Pending for at least `for`: it fires (alert.firing). */
  | { action: 'fire' }
  /** Still pending (not yet `for`), or still firing: only the evaluation is recorded. */
  | { action: 'keep' }
  /** The condition no longer holds: resolved, with alert.resolved only if it had fired. */
  | { action: 'resolve'; notify: boolean };

/**
 * What one evaluation does to the subject's alert. A pending alert whose condition stops
 * holding resolves without an event, and the next time the condition holds a new alert starts
 * its `for` from zero: a flapping signal fires only if it holds for a whole `for` in a row, and
 * a resolved alert fires again only after a new full `for`.
 */
export function nextTransition(open: OpenAlert | null, holds: boolean, now: Date, forMs: number): Transition {
  if (open === null) return holds ? { action: 'open', firing: forMs === 0 } : { action: 'none' };
  if (!holds) return { action: 'resolve', notify: open.state === 'firing' };
  if (open.state === 'pending' && now.getTime() - open.startedAt.getTime() >= forMs) return { action: 'fire' };
  return { action: 'keep' };
}
