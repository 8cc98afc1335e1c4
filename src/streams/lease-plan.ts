import type { LeaseRow } from './shard-lease.repository.js';

/** What one consumer does with the leases in one round. */
export interface LeasePlan {
  /** Free, expired, or this consumer's own from a previous life: take them. */
  take: LeaseRow[];
  /** A live lease of the busiest consumer, taken to even out the load. */
  steal: LeaseRow | undefined;
  /** Shards that may be read now (not finished, parents finished). */
  readable: number;
  /** This consumer's fair share of them. */
  target: number;
}

export const shardKeyOf = (key: { streamName: string; shardId: string }) => `${key.streamName}\u0000${key.shardId}`;

/**
 * Lease balancing, decided from the lease table alone (no coordinator):
 * - a shard is readable once it is not finished and each parent is finished (or gone from
 *   the table, e.g. trimmed before this stream was first consumed): children of a split or
 *   merge wait for their parents' end, so a device's readings are stored in stream order;
 * - the consumers are the owners of live leases, and this one; each aims at the ceiling
 *   of readable shards / consumers;
 * - below its share, a consumer takes free or expired leases (in random order, so that
 *   consumers starting together collide less), and when none is left, steals one lease a
 *   round from the consumer holding the most, if that one holds at least two more.
 * A consumer holding nothing is unseen by the others until it steals its first lease; the
 * rounds converge within a few lease periods.
 */
export function planLeases(
  rows: readonly LeaseRow[],
  me: string,
  held: ReadonlySet<string>,
  random: () => number = Math.random,
): LeasePlan {
  const present = new Map(rows.map((row) => [shardKeyOf(row), row]));
  const readable = rows.filter(
    (row) =>
      !row.finished &&
      row.parentShardIds.every((parent) => present.get(shardKeyOf({ ...row, shardId: parent }))?.finished ?? true),
  );
  const counts = new Map<string, LeaseRow[]>();
  for (const row of readable) {
    if (!row.live || row.owner === null || row.owner === me) continue;
    counts.set(row.owner, [...(counts.get(row.owner) ?? []), row]);
  }
  const consumers = counts.size + 1;
  const target = Math.ceil(readable.length / consumers);
  const mine = readable.filter((row) => held.has(shardKeyOf(row))).length;
  const free = shuffle(
    readable.filter((row) => !held.has(shardKeyOf(row)) && (!row.live || row.owner === null || row.owner === me)),
    random,
  );
  const take = free.slice(0, Math.max(0, target - mine));
  let steal: LeaseRow | undefined;
  if (mine + take.length < target) {
    // Only from a consumer with at least two more: with 4 shards and 3 consumers, 2/1/1 is
    // even, and the one with 2 is not robbed back and forth.
    const busiest = [...counts.values()].sort((a, b) => b.length - a.length)[0];
    if (busiest && busiest.length > mine + 1) steal = busiest[Math.floor(random() * busiest.length)];
  }
  return { take, steal, readable: readable.length, target };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
