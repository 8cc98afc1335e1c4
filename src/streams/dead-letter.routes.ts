import type { Scope } from '../auth/api-key.table.js';
import type { Db } from '../db/database.js';
import type { ApiRouter } from '../http/api-router.js';
import { listDeadLetters, type StoredDeadLetter } from './dead-letter.repository.js';
import { deadLetterPage, deadLetterQuery } from './dead-letter.schema.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function asText(payload: Buffer): string | null {
  try {
    return utf8.decode(payload);
  } catch {
    return null;
  }
}

const present = (letter: StoredDeadLetter) => ({
  id: letter.id,
  stream: letter.streamName,
  shardId: letter.shardId,
  sequenceNumber: letter.sequenceNumber,
  partitionKey: letter.partitionKey,
  arrivedAt: letter.arrivedAt?.toISOString() ?? null,
  reason: letter.reason,
  details: letter.details,
  payload: letter.payload.toString('base64'),
  text: asText(letter.payload),
  createdAt: letter.createdAt.toISOString(),
});

/** The records the stream consumers could not store (admin scope); they live in the database, whoever consumed them. */
export function registerDeadLetterRoutes(api: ApiRouter<Scope>, db: Db): void {
  api.add({
    method: 'get',
    path: '/v1/streams/dead-letters',
    operationId: 'listStreamDeadLetters',
    tag: 'Streams',
    summary: 'Stream records that could not be stored, newest first',
    description:
      'Records read from a Kinesis stream that were not stored, with why (the shard moved on past them): not JSON, ' +
      'invalid readings, or readings older than the acceptance window. Each record is listed once, however often ' +
      "it was read. Page with `before` = the previous page's `nextBefore`.",
    scope: 'admin',
    request: { query: deadLetterQuery },
    status: 200,
    response: { description: 'One page of dead letters', schema: deadLetterPage },
    handler: async ({ query }) => {
      const letters = await listDeadLetters(db, {
        streamName: query.stream,
        before: query.before,
        limit: query.limit + 1,
      });
      const page = letters.slice(0, query.limit);
      return {
        items: page.map(present),
        nextBefore: letters.length > query.limit ? page.at(-1)!.id : null,
      };
    },
  });
}
