import test from 'ava';

import {
  meterConflicts,
  planMoves,
  startFirstAssignments,
  type AssignmentConflict,
  type AssignmentRequest,
} from '../../src/mapping/assignment-plan.js';
import type { Assignment } from '../../src/mapping/mapping.repository.js';
import { DAY_MS, END_OF_TIME, HOUR_MS, START_OF_TIME } from '../../src/time.js';
import { seededRandom } from '../../tools/simulator/random.js';

/**
 * The plan of a batch of assignments, without a database: `assign` below runs its three steps
 * as assignMeters' transaction does, over an in-memory table read the way the repository's
 * queries read it. The database tests (assignments*, bulk-mappings*) stay the final word on
 * the SQL; these run thousands of generated batches in a second.
 */
const NOW = new Date(Date.UTC(2026, 11, 4, 12));
const at = (hoursAgo: number) => new Date(NOW.getTime() - hoursAgo * HOUR_MS);

class Table {
  rows: Assignment[] = [];
  private nextId = 1;

  add(vehicleId: string, meterId: string, from: Date, to = END_OF_TIME): Assignment {
    const row = { id: this.nextId++, vehicle_id: vehicleId, meter_id: meterId, valid_from: from, valid_to: to };
    this.rows.push({ ...row, created_at: NOW });
    return this.rows.at(-1)!;
  }

  /** findAssignmentsEndingAfter(vehicles, START_OF_TIME). */
  ofVehicles(vehicleIds: readonly string[]): Assignment[] {
    return this.rows
      .filter((a) => vehicleIds.includes(a.vehicle_id) && a.valid_to > START_OF_TIME)
      .sort((a, b) => a.valid_from.getTime() - b.valid_from.getTime());
  }

  /** findMeterUsesFrom(entries). */
  meterUses(entries: readonly { meterId: string; from: Date }[]): Assignment[] {
    return this.rows
      .filter((a) => entries.some((e) => e.meterId === a.meter_id && a.valid_to > e.from))
      .sort((a, b) => a.valid_from.getTime() - b.valid_from.getTime());
  }

  /** Commits a copy worked on. */
  adopt(work: Table): void {
    this.rows = work.rows;
    this.nextId = work.nextId;
  }

  clone(): Table {
    const copy = new Table();
    copy.rows = this.rows.map((a) => ({ ...a }));
    copy.nextId = this.nextId;
    return copy;
  }

  /** The table as a history, ids left out (two tables built apart number their rows apart). */
  history(): string[] {
    return this.rows
      .map((a) => `${a.vehicle_id} ${a.meter_id} ${a.valid_from.toISOString()} ${a.valid_to.toISOString()}`)
      .sort();
  }
}

type Outcome = { refused: AssignmentConflict[] } | { created: number; moved: number; unchanged: number };

/** assignMeters' transaction, in memory: all or nothing. */
function assign(table: Table, wanted: readonly AssignmentRequest[], now = NOW): Outcome {
  const work = table.clone();
  const moves = planMoves(wanted, work.ofVehicles(wanted.map((r) => r.vehicleId)), now);
  if (moves.conflicts.length > 0) return { refused: moves.conflicts };
  for (const { assignment, at } of moves.close) work.rows.find((a) => a.id === assignment.id)!.valid_to = at;
  const meterRows =
    moves.sinceFree.length > 0
      ? work.meterUses(moves.sinceFree.map(({ request }) => ({ meterId: request.meterId, from: START_OF_TIME })))
      : [];
  const creations = startFirstAssignments(moves, meterRows, now);
  const taken = meterConflicts(creations, work.meterUses(creations.map(({ request }) => request)));
  if (taken.length > 0) return { refused: taken };
  for (const { request } of creations) work.add(request.vehicleId, request.meterId, request.from);
  table.adopt(work);
  return { created: creations.length - moves.close.length, moved: moves.close.length, unchanged: moves.unchanged };
}

const kinds = (outcome: Outcome) => ('refused' in outcome ? outcome.refused.map((c) => `${c.entry}:${c.kind}`) : []);

test('a repeated request changes nothing; a move closes the assignment in force at its start', (t) => {
  const table = new Table();
  table.add('ev-1', 'm-1', at(48));
  for (const from of [at(48), at(24), undefined]) {
    t.deepEqual(assign(table, [{ vehicleId: 'ev-1', meterId: 'm-1', from }]), { created: 0, moved: 0, unchanged: 1 });
  }
  t.deepEqual(assign(table, [{ vehicleId: 'ev-1', meterId: 'm-2', from: at(24) }]), {
    created: 0,
    moved: 1,
    unchanged: 0,
  });
  t.deepEqual(table.history(), [
    `ev-1 m-1 ${at(48).toISOString()} ${at(24).toISOString()}`,
    `ev-1 m-2 ${at(24).toISOString()} ${END_OF_TIME.toISOString()}`,
  ]);
});

test('an assignment starting at or after `from` refuses the entry: that is a correction, not a move', (t) => {
  const table = new Table();
  const later = table.add('ev-1', 'm-1', at(10));
  const outcome = assign(table, [{ vehicleId: 'ev-1', meterId: 'm-2', from: at(10) }]);
  t.deepEqual(outcome, { refused: [{ entry: 0, kind: 'later_assignment', assignment: later }] });
});

test("a meter in another vehicle's use, or claimed by two entries, refuses each entry that asks for it", (t) => {
  const table = new Table();
  const use = table.add('ev-9', 'm-9', at(5));
  t.deepEqual(assign(table, [{ vehicleId: 'ev-1', meterId: 'm-9', from: at(30) }]), {
    refused: [{ entry: 0, kind: 'meter_in_use', assignment: use }],
  });
  const three = ['ev-1', 'ev-2', 'ev-3'].map((vehicleId) => ({ vehicleId, meterId: 'm-1', from: at(3) }));
  t.deepEqual(assign(table, three), {
    refused: [
      { entry: 1, kind: 'meter_listed_twice', meterId: 'm-1', otherEntry: 0 },
      { entry: 2, kind: 'meter_listed_twice', meterId: 'm-1', otherEntry: 1 },
    ],
  });
});

test('a first assignment without `from` starts where its meter was last freed, by the batch itself too', (t) => {
  const table = new Table();
  table.add('ev-7', 'm-7', at(50), at(20));
  table.add('ev-42', 'm-18', at(40));
  // ev-42 leaves meter-18 now; ev-43 (no assignment yet) takes it: from now, as two single calls.
  t.deepEqual(
    assign(table, [
      { vehicleId: 'ev-43', meterId: 'm-18' },
      { vehicleId: 'ev-42', meterId: 'm-19' },
      { vehicleId: 'ev-44', meterId: 'm-7' },
      { vehicleId: 'ev-45', meterId: 'm-new' },
    ]),
    { created: 3, moved: 1, unchanged: 0 },
  );
  const startOf = (vehicleId: string) => table.rows.find((a) => a.vehicle_id === vehicleId)!.valid_from;
  t.deepEqual(startOf('ev-43'), NOW);
  t.deepEqual(startOf('ev-44'), at(20));
  t.deepEqual(startOf('ev-45'), START_OF_TIME);
});

test('the moves happen at once: two vehicles swap meters in one batch', (t) => {
  const table = new Table();
  table.add('ev-1', 'm-1', at(9));
  table.add('ev-2', 'm-2', at(9));
  const swap = [
    { vehicleId: 'ev-1', meterId: 'm-2' },
    { vehicleId: 'ev-2', meterId: 'm-1' },
  ];
  t.deepEqual(kinds(assign(table.clone(), swap.slice(0, 1))), ['0:meter_in_use'], 'one at a time it collides');
  t.deepEqual(assign(table, swap), { created: 0, moved: 2, unchanged: 0 });
});

/** What the database's exclusion and check constraints would refuse in `table`. */
function constraintBreaks(table: Table): string[] {
  const breaks: string[] = [];
  for (const a of table.rows) {
    if (a.valid_from >= a.valid_to) breaks.push(`${a.id} is empty`);
    for (const b of table.rows) {
      const overlap = a.id < b.id && a.valid_from < b.valid_to && b.valid_from < a.valid_to;
      if (overlap && (a.vehicle_id === b.vehicle_id || a.meter_id === b.meter_id)) breaks.push(`${a.id} & ${b.id}`);
    }
  }
  return breaks;
}

test('generated batches: one batch equals its changes one after another, and breaks no constraint', (t) => {
  const rnd = seededRandom(Number(process.env.PROPERTY_SEED ?? 20261204));
  const pick = (n: number) => Math.floor(rnd() * n);
  // Instants over the last four days, on the hour often enough to collide.
  const instant = () => at(rnd() < 0.5 ? pick(96) : rnd() * 96);
  const VEHICLES = 5;
  const METERS = 6;
  let compared = 0;
  let onlyAsBatch = 0;
  let freedThenTaken = 0;
  const ROUNDS = 3000;
  let refused = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    const table = new Table();
    for (let step = 0; step < 8; step += 1) {
      const vehicleId = `v${pick(VEHICLES)}`;
      if (rnd() < 0.3) {
        // End the vehicle's open assignment in the past: its meter is free from then on.
        const last = table.rows.find((a) => a.vehicle_id === vehicleId && a.valid_to >= END_OF_TIME);
        const start = Math.max(last?.valid_from.getTime() ?? 0, NOW.getTime() - 5 * DAY_MS);
        if (last) last.valid_to = new Date(start + Math.floor(rnd() * (NOW.getTime() - start)) + 1);
      } else assign(table, [{ vehicleId, meterId: `m${pick(METERS)}`, from: instant() }]);
    }
    t.deepEqual(constraintBreaks(table), [], 'the history is one the database holds');

    const vehicles = Array.from({ length: VEHICLES }, (_, i) => `v${i}`).sort(() => rnd() - 0.5);
    // Half the meters are ones the batch's vehicles hold now: moves that free a meter for another entry.
    const chosen = vehicles.slice(0, 1 + pick(VEHICLES));
    const held = table.rows.filter((a) => chosen.includes(a.vehicle_id) && a.valid_to >= END_OF_TIME);
    const batch: AssignmentRequest[] = chosen.map((vehicleId) => ({
      vehicleId,
      meterId: held.length > 0 && rnd() < 0.5 ? held[pick(held.length)]!.meter_id : `m${pick(METERS)}`,
      from: rnd() < 0.7 ? undefined : instant(),
    }));
    const isFirstSinceFree = (r: AssignmentRequest) =>
      r.from === undefined && !table.rows.some((a) => a.vehicle_id === r.vehicleId);
    if (batch.some((r) => isFirstSinceFree(r) && held.some((a) => a.meter_id === r.meterId))) freedThenTaken += 1;

    const bulk = table.clone();
    const outcome = assign(bulk, batch);
    const single = table.clone();
    const sequence = [...batch.filter((r) => !isFirstSinceFree(r)), ...batch.filter(isFirstSinceFree)];
    const allApplied = sequence.every((r) => !('refused' in assign(single, [r])));
    const what = `round ${round}: ${JSON.stringify(batch)} on ${JSON.stringify(table.history())}`;
    if ('refused' in outcome) {
      t.deepEqual(bulk.history(), table.history(), `${what}: a refused batch changes nothing`);
      t.false(allApplied, `${what}: refused (${kinds(outcome).join(', ')}), yet its single calls succeed`);
      refused += 1;
      continue;
    }
    t.deepEqual(constraintBreaks(bulk), [], what);
    t.is(outcome.created + outcome.moved + outcome.unchanged, batch.length, what);
    for (const r of batch) {
      const open = bulk.rows.find((a) => a.vehicle_id === r.vehicleId && a.valid_to >= END_OF_TIME);
      t.is(open?.meter_id, r.meterId, `${what}: ${r.vehicleId} draws from its meter from now on`);
    }
    if (allApplied) {
      compared += 1;
      t.deepEqual(bulk.history(), single.history(), what);
    } else onlyAsBatch += 1; // a swap, say: the moves of a batch happen at once
  }
  t.log(
    `${compared} batches compared with their single calls, ${onlyAsBatch} possible only as a batch, ${refused} refused`,
  );
  // Five vehicles on six meters collide often: about one batch in five can be compared.
  t.true(compared > ROUNDS / 6, 'enough batches could be compared');
  t.true(onlyAsBatch > 0, 'batches that only work at once were generated');
  t.true(freedThenTaken > 0, 'a meter freed by a move and given to a first assignment was generated');
});
