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

test('storing readings in any split gives the chain of all of them (duplicates of stored ones left out)', (t) => {
  const rnd = seededRandom(11);
  const ruleOver = (links: { ts: number; register: number }[]) => {
    const sorted = [...links].sort((a, b) => a.ts - b.ts);
    return new Map(sorted.map((link, i) => [link.ts, chainEnergy(sorted[i - 1]?.register, link.register)]));
  };
  for (let run = 0; run < 500; run += 1) {
    const all = Array.from({ length: 2 + Math.floor(rnd() * 12) }, (_, i) => ({
      ts: i * 60_000,
      register: rnd() < 0.1 ? Math.floor(rnd() * 10) : 100 + i * Math.floor(rnd() * 5),
    }));
    const incomingSet = all.filter(() => rnd() < 0.4);
    if (incomingSet.length === 0) continue;
    const storedOnly = all.filter((link) => !incomingSet.includes(link));
    const before = ruleOver(storedOnly);
    const stored: StoredLink[] = storedOnly.map((link) => ({ ...link, ...before.get(link.ts)! }));
    // A re-sent stored reading (another register, same timestamp) is a duplicate.
    const duplicate = storedOnly[0] ? [{ ts: storedOnly[0].ts, register: 1e6, position: 99 }] : [];
    const incoming = [...incomingSet.map((link, position) => ({ ...link, position })), ...duplicate];
    const derived = deriveChain(stored, incoming);
    const expected = ruleOver(all);
    for (const [position, link] of incomingSet.entries())
      t.deepEqual(derived.incoming.get(position), expected.get(link.ts));
    t.false(derived.incoming.has(99));
    const after = new Map(stored.map((link) => [link.ts, { kwh: link.kwh, event: link.event }]));
    for (const change of derived.changed) after.set(change.ts, { kwh: change.kwh, event: change.event });
    for (const link of storedOnly) t.deepEqual(after.get(link.ts), expected.get(link.ts));
  }
});
