import test from 'ava';

import { planLeases } from '../../src/streams/lease-plan.js';
import type { LeaseRow } from '../../src/streams/shard-lease.repository.js';

const row = (shardId: string, fields: Partial<LeaseRow> = {}): LeaseRow => ({
  streamName: 's',
  shardId,
  parentShardIds: [],
  owner: null,
  counter: 0,
  checkpoint: null,
  finished: false,
  live: false,
  ...fields,
});
const held = (...ids: string[]) => new Set(ids.map((id) => `s\u0000${id}`));
const owned = (shardId: string, owner: string) => row(shardId, { owner, live: true, counter: 1 });

test('a lone consumer takes every free shard', (t) => {
  const plan = planLeases([row('a'), row('b'), row('c')], 'me', held());
  t.deepEqual(plan.take.map((r) => r.shardId).sort(), ['a', 'b', 'c']);
  t.is(plan.steal, undefined);
});

test('children wait until every parent is finished; a parent gone from the table counts as finished', (t) => {
  const rows = [
    row('parent', { finished: false }),
    row('child', { parentShardIds: ['parent'] }),
    row('orphan', { parentShardIds: ['trimmed-long-ago'] }),
  ];
  t.deepEqual(
    planLeases(rows, 'me', held())
      .take.map((r) => r.shardId)
      .sort(),
    ['orphan', 'parent'],
  );
  rows[0] = row('parent', { finished: true });
  t.deepEqual(
    planLeases(rows, 'me', held())
      .take.map((r) => r.shardId)
      .sort(),
    ['child', 'orphan'],
  );
});

test('expired leases are free; live ones of others are not', (t) => {
  const rows = [row('a', { owner: 'dead', live: false, counter: 3 }), owned('b', 'other')];
  const plan = planLeases(rows, 'me', held());
  t.deepEqual(
    plan.take.map((r) => r.shardId),
    ['a'],
  );
});

test('a newcomer steals from the busiest consumer until the share is even, then stops', (t) => {
  const four = ['a', 'b', 'c', 'd'];
  const plan = planLeases(
    four.map((id) => owned(id, 'old')),
    'new',
    held(),
  );
  t.is(plan.target, 2);
  t.truthy(plan.steal);
  // 3 / 1: one more.
  const next = planLeases(
    [owned('a', 'old'), owned('b', 'old'), owned('c', 'old'), owned('d', 'new')],
    'new',
    held('d'),
  );
  t.truthy(next.steal);
  // 2 / 2: even.
  const even = planLeases(
    [owned('a', 'old'), owned('b', 'old'), owned('c', 'new'), owned('d', 'new')],
    'new',
    held('c', 'd'),
  );
  t.is(even.steal, undefined);
  t.is(even.take.length, 0);
});

test('4 shards, 3 consumers: 2/1/1 is even (no stealing back and forth)', (t) => {
  const rows = [owned('a', 'x'), owned('b', 'x'), owned('c', 'y'), owned('d', 'me')];
  const plan = planLeases(rows, 'me', held('d'));
  t.is(plan.steal, undefined);
  const forX = planLeases(rows, 'x', held('a', 'b'));
  t.is(forX.steal, undefined);
});

test("this consumer's own live lease from a previous life (same id, not held) is taken back", (t) => {
  const plan = planLeases([owned('a', 'me')], 'me', held());
  t.deepEqual(
    plan.take.map((r) => r.shardId),
    ['a'],
  );
});
