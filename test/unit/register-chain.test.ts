import test from 'ava';

import { MAX_INTERVAL_KWH } from '../../src/telemetry/reading-bounds.js';
import { chainEnergy, deriveChain, exactDifference, type StoredLink } from '../../src/telemetry/register-chain.js';
import { seededRandom } from '../../tools/simulator/random.js';

/** Unit tier: the register-chain rule, without a database. */

test('differences are exact in decimal, rounded once', (t) => {
  t.is(exactDifference(1000.4, 1000.2), 0.2);
  t.is(exactDifference(0.3, 0.1), 0.2);
  t.is(exactDifference(5, 5), 0);
  t.is(exactDifference(1e-7, 0), 1e-7);
  t.is(exactDifference(123456789.123456, 0.000001), 123456789.123455);
  const rnd = seededRandom(3);
  for (let i = 0; i < 10_000; i += 1) {
    const b = Math.floor(rnd() * 1e12);
    const a = b + Math.floor(rnd() * 1e7);
    t.is(exactDifference(a / 1000, b / 1000), (a - b) / 1000);
  }
});

test('the rule: baseline, difference, reset from zero, jump counted as 0', (t) => {
  t.deepEqual(chainEnergy(undefined, 50), { kwh: 0, event: 'first' });
  t.deepEqual(chainEnergy(50, 52.5), { kwh: 2.5, event: null });
  t.deepEqual(chainEnergy(50, 3), { kwh: 3, event: 'reset' });
  t.deepEqual(chainEnergy(1e6, MAX_INTERVAL_KWH + 1), { kwh: 0, event: 'reset' });
  t.deepEqual(chainEnergy(50, 50 + MAX_INTERVAL_KWH), { kwh: MAX_INTERVAL_KWH, event: null });
  t.deepEqual(chainEnergy(50, 50.001 + MAX_INTERVAL_KWH), { kwh: 0, event: 'jump' });
});

test('a decrease of at most 10 Wh is jitter: 0 kWh and no event; more is a reset (compared in decimal)', (t) => {
  t.deepEqual(chainEnergy(1000, 999.99), { kwh: 0, event: null });
  t.deepEqual(chainEnergy(1000.001, 999.991), { kwh: 0, event: null });
  t.deepEqual(chainEnergy(1000, 999.98999), { kwh: 999.98999 > MAX_INTERVAL_KWH ? 0 : 999.98999, event: 'reset' });
  t.deepEqual(chainEnergy(0.3, 0.29), { kwh: 0, event: null });
  t.deepEqual(chainEnergy(0.3, 0.2899999), { kwh: 0.2899999, event: 'reset' });
  t.deepEqual(chainEnergy(123456789.12, 123456789.11), { kwh: 0, event: null });
});

test('storing readings in any split gives the chain of all of them: duplicates of either form and dropped predecessors', (t) => {
  const rnd = seededRandom(11);
  type Point = { ts: number; register: number };
  /** The rule by brute force: each point's energy and link from the one before it. */
  const ruleOver = (links: Point[]) => {
    const sorted = [...links].sort((a, b) => a.ts - b.ts);
    return new Map(
      sorted.map((link, i) => {
        const before = sorted[i - 1];
        return [link.ts, { ...chainEnergy(before?.register, link.register), previous: before ? { ...before } : null }];
      }),
    );
  };
  let ghostsUsed = 0;
  for (let run = 0; run < 2000; run += 1) {
    const all: Point[] = Array.from({ length: 2 + Math.floor(rnd() * 12) }, (_, i) => ({
      ts: i * 60_000,
      register:
        rnd() < 0.1 ? Math.floor(rnd() * 10) : rnd() < 0.1 ? 100 + i - rnd() / 100 : 100 + i * Math.floor(rnd() * 5),
    }));
    // A prefix dropped by retention after the rest was derived with it; then late readings arrive.
    const dropped = all.slice(0, rnd() < 0.5 ? Math.floor(rnd() * (all.length - 1)) : 0);
    const kept = all.slice(dropped.length);
    const incomingSet = kept.filter(() => rnd() < 0.4);
    if (incomingSet.length === 0) continue;
    const storedOnly = kept.filter((link) => !incomingSet.includes(link));
    const before = ruleOver([...dropped, ...storedOnly]);
    const stored: StoredLink[] = storedOnly.map((link) => ({ ...link, ...before.get(link.ts)! }));
    if (dropped.length > 0 && incomingSet[0]!.ts < (storedOnly[0]?.ts ?? Infinity)) ghostsUsed += 1;
    // Duplicates: a re-sent stored reading (another register), and one at an interval reading's instant.
    const intervalAt = all.length * 60_000 * rnd() + 30_000;
    const duplicates = [
      ...(storedOnly[0] ? [{ ts: storedOnly[0].ts, register: 1e6, position: 99 }] : []),
      { ts: intervalAt, register: 0, position: 98 },
    ];
    const incoming = [...incomingSet.map((link, position) => ({ ...link, position })), ...duplicates];
    const live = [...dropped, ...storedOnly].at(-1);
    const derived = deriveChain(stored, incoming, { occupied: [intervalAt], newest: live });
    const expected = ruleOver(all);
    for (const [position, link] of incomingSet.entries())
      t.deepEqual(derived.incoming.get(position), expected.get(link.ts));
    t.false(derived.incoming.has(99));
    t.false(derived.incoming.has(98));
    const after = new Map(
      stored.map((link) => [link.ts, { kwh: link.kwh, event: link.event, previous: link.previous }]),
    );
    for (const { ts, ...change } of derived.changed) after.set(ts, change);
    for (const link of storedOnly) t.deepEqual(after.get(link.ts), expected.get(link.ts));
  }
  t.true(ghostsUsed > 50, `${ghostsUsed} late readings before the first kept one`);
});

test('a batch of duplicates only changes nothing', (t) => {
  const stored: StoredLink[] = [
    { ts: 0, register: 10, kwh: 0, event: 'first', previous: null },
    { ts: 2, register: 12, kwh: 2, event: null, previous: { ts: 0, register: 10 } },
  ];
  const derived = deriveChain(
    stored,
    [
      { ts: 1, register: 0, position: 0 },
      { ts: 2, register: 5, position: 1 },
    ],
    {
      occupied: [1],
    },
  );
  t.deepEqual(derived, { incoming: new Map(), changed: [] });
});
