import { z } from 'zod';

import type { Scope } from '../auth/api-key.table.js';
import type { Db } from '../db/database.js';
import type { ApiRouter } from '../http/api-router.js';
import { AppError } from '../http/app-error.js';
import { deviceIdSchema } from '../http/device-id.schema.js';
import { deleteIdToken, findIdTokenVehicle, normalIdToken, setIdTokenVehicle } from './id-token.repository.js';

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

const notFound = (idToken: string) =>
  new AppError('id_token_not_found', `No vehicle is mapped to id token ${idToken}.`);

/** Which vehicle an OCPP id token (RFID card, contract id) stands for (admin scope, docs/ocpp.md). */
export function registerIdTokenRoutes(api: ApiRouter<Scope>, db: Db): void {
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
