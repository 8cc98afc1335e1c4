import { z } from 'zod';

import { instantJson, pageLimitQuery } from '../http/common.schema.js';

export const deadLetterQuery = z.object({
  stream: z
    .string()
    .regex(/^[\w.-]{1,128}$/, 'must be a stream name')
    .optional()
    .meta({ description: 'Only the dead letters of this stream' }),
  before: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .positive('must be positive')
    .optional()
    .meta({ description: '`nextBefore` of the previous page: the dead letters older than it' }),
  limit: pageLimitQuery,
});

export const deadLetter = z
  .object({
    id: z.number().int(),
    stream: z.string(),
    shardId: z.string(),
    sequenceNumber: z.string().meta({ description: 'A decimal number of up to 129 digits, as a string' }),
    partitionKey: z.string(),
    arrivedAt: instantJson.nullable().meta({ description: 'When Kinesis received the record (approximate)' }),
    reason: z.enum(['not_json', 'invalid_readings', 'too_old']).meta({
      description:
        "`not_json`: not UTF-8 JSON; `invalid_readings`: not readings of the stream's kind by the ingest rules " +
        '(`details` as in a `validation_failed` error); `too_old`: a reading older than the acceptance window.',
    }),
    details: z.array(z.object({ index: z.number().int().optional(), path: z.string(), message: z.string() })),
    payload: z.string().meta({ description: 'The record as it was on the stream, base64' }),
    text: z.string().nullable().meta({ description: 'The record as UTF-8 text; null when it is not' }),
    createdAt: instantJson,
  })
  .meta({ id: 'StreamDeadLetter' });

export const deadLetterPage = z
  .object({
    items: z.array(deadLetter),
    nextBefore: z.number().int().nullable().meta({ description: 'null on the last page' }),
  })
  .meta({ id: 'StreamDeadLetterPage' });
