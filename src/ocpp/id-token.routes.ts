import { z } from 'zod';

import type { Scope } from '../auth/api-key.table.js';
import type { Db } from '../db/database.js';
import type { ApiRouter } from '../http/api-router.js';
import { AppError } from '../http/app-error.js';
import { instantJson, pageLimitQuery } from '../http/common.schema.js';
import { deviceIdSchema } from '../http/device-id.schema.js';
import {
  deleteIdToken,
  findIdTokenVehicle,
  listIdTokens,
  normalIdToken,
  setIdTokenVehicle,
  type ListedIdToken,
} from './id-token.repository.js';

const idTokenParams = z.object({
  idToken: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,36}$/, 'must be 1-36 characters of A-Z, a-z, 0-9, ".", "_", ":" or "-"')
    .meta({ example: '04A2B3C4D5E6F7' }),
});
const idTokenBody = z.object({ vehicleId: deviceIdSchema.meta({ example: 'ev-42' }) });
const idTokenView = z
  .object({
    idToken: z.string().meta({ description: 'Upper-case: OCPP id tokens are case-insensitive' }),
    vehicleId: z.string(),
  })
  .meta({ id: 'IdToken' });

const listQuery = z.object({
  unknown: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .default('false')
    .transform((flag) => flag === 'true')
    .meta({
      description:
        'true: the tokens stations presented that no vehicle is mapped to (most recently seen first), to map the ' +
        'cards drivers use; false (default): the mapped tokens, by token.',
    }),
  limit: pageLimitQuery,
});
const listedIdToken = z
  .object({
    idToken: z.string().meta({ description: 'Upper-case' }),
    vehicleId: z.string().nullable().meta({ description: 'null for an unknown token' }),
    updatedAt: instantJson.nullable().meta({ description: 'When the mapping was last set; null for an unknown token' }),
    seenUnknown: z
      .object({
        firstAt: instantJson,
        lastAt: instantJson,
        lastChargePointId: z.string(),
        lastStatus: z.enum(['Accepted', 'Invalid']).meta({
          description: 'What the station was answered the last time: Accepted with OCPP_ACCEPT_UNKNOWN_ID_TOKENS',
        }),
        times: z.number().int().meta({ description: 'Calls that presented it (a resent call counts again)' }),
      })
      .nullable()
      .meta({ description: 'Its presentations by stations while no vehicle was mapped to it; null if none' }),
  })
  .meta({ id: 'ListedIdToken' });
const idTokenList = z.object({ items: z.array(listedIdToken) }).meta({ id: 'IdTokenList' });

const iso = (date: Date) => date.toISOString();
const presentListed = (token: ListedIdToken) => ({
  idToken: token.idToken,
  vehicleId: token.vehicleId,
  updatedAt: token.updatedAt && iso(token.updatedAt),
  seenUnknown: token.seenUnknown && {
    ...token.seenUnknown,
    firstAt: iso(token.seenUnknown.firstAt),
    lastAt: iso(token.seenUnknown.lastAt),
    lastStatus: token.seenUnknown.lastStatus === 'Accepted' ? ('Accepted' as const) : ('Invalid' as const),
  },
});

const notFound = (idToken: string) =>
  new AppError('id_token_not_found', `No vehicle is mapped to id token ${idToken}.`);

/** Which vehicle an OCPP id token (RFID card, contract id) stands for (admin scope, docs/ocpp.md). */
export function registerIdTokenRoutes(api: ApiRouter<Scope>, db: Db): void {
  api.add({
    method: 'get',
    path: '/v1/id-tokens',
    operationId: 'listIdTokens',
    tag: 'Charge points',
    summary: 'The mapped OCPP id tokens, or the unknown ones stations presented (unknown=true)',
    description:
      'Every token a station presents in Authorize, StartTransaction, StopTransaction or TransactionEvent while no ' +
      'vehicle is mapped to it is recorded, whether it was answered `Invalid` or, with ' +
      '`OCPP_ACCEPT_UNKNOWN_ID_TOKENS`, `Accepted`; `unknown=true` lists those still unmapped. Map one with ' +
      '`PUT /v1/id-tokens/{idToken}`: from then on it is listed with its vehicle (and its earlier sightings). ' +
      'The first `limit` tokens.',
    scope: 'admin',
    request: { query: listQuery },
    status: 200,
    response: { description: 'The tokens', schema: idTokenList },
    handler: async ({ query }) => ({
      items: (await listIdTokens(db, { unknown: query.unknown, limit: query.limit })).map(presentListed),
    }),
  });

  api.add({
    method: 'put',
    path: '/v1/id-tokens/:idToken',
    operationId: 'setIdTokenVehicle',
    tag: 'Charge points',
    summary: 'Map an OCPP id token to a vehicle',
    description:
      'Authorize and StartTransaction answer `Accepted` for a mapped token, `Invalid` for any other. Tokens are ' +
      'case-insensitive.',
    scope: 'admin',
    request: { params: idTokenParams, body: idTokenBody },
    status: 200,
    response: { description: 'The mapping', schema: idTokenView },
    handler: async ({ params, body }) => {
      await setIdTokenVehicle(db, params.idToken, body.vehicleId);
      return { idToken: normalIdToken(params.idToken), vehicleId: body.vehicleId };
    },
  });

  api.add({
    method: 'get',
    path: '/v1/id-tokens/:idToken',
    operationId: 'getIdTokenVehicle',
    tag: 'Charge points',
    summary: 'The vehicle an OCPP id token is mapped to',
    scope: 'admin',
    request: { params: idTokenParams },
    status: 200,
    response: { description: 'The mapping', schema: idTokenView },
    errors: ['id_token_not_found'],
    handler: async ({ params }) => {
      const vehicleId = await findIdTokenVehicle(db, params.idToken);
      if (vehicleId === undefined) throw notFound(params.idToken);
      return { idToken: normalIdToken(params.idToken), vehicleId };
    },
  });

  api.add({
    method: 'delete',
    path: '/v1/id-tokens/:idToken',
    operationId: 'deleteIdToken',
    tag: 'Charge points',
    summary: 'Remove the mapping of an OCPP id token',
    description: 'From then on the token is `Invalid`; transactions already started keep what they were answered.',
    scope: 'admin',
    request: { params: idTokenParams },
    status: 204,
    response: { description: 'Removed' },
    errors: ['id_token_not_found'],
    handler: async ({ params }) => {
      if (!(await deleteIdToken(db, params.idToken))) throw notFound(params.idToken);
    },
  });
}
