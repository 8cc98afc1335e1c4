import { z } from 'zod';

import { instantJson } from '../http/common.schema.js';

/**
 * A charge point id: its connectors' meters are `{chargePointId}:{connectorId}`, so no ":" in
 * it (the meter id stays unambiguous) and at most 48 characters (OCPP's identity limit, and
 * room for the connector within the 64 of a device id).
 */
export const CHARGE_POINT_ID = /^[A-Za-z0-9._-]{1,48}$/;

export const chargePointParams = z.object({
  chargePointId: z
    .string()
    .regex(CHARGE_POINT_ID, 'must be 1-48 characters of A-Z, a-z, 0-9, ".", "_" or "-"')
    .meta({ example: 'cp-1' }),
});

// OCPP's BasicAuthPassword is 16 to 40 characters (security profile 1/2).
export const setPasswordBody = z.object({
  password: z
    .string('must be a string of 16 to 40 characters')
    .min(16, 'must be at least 16 characters')
    .max(40, 'must be at most 40 characters (OCPP BasicAuthPassword)')
    .meta({ description: 'The HTTP Basic password of the station (user name: its id). Stored as a scrypt hash.' }),
});

export const chargePointView = z
  .object({
    chargePointId: z.string(),
    connected: z.boolean().meta({
      description:
        'Connected to an instance now: closed by none, and the lease its instance renews not run out (an instance ' +
        'that crashed stops renewing: its stations are disconnected within OCPP_CONNECTION_LEASE_MS)',
    }),
    protocol: z
      .enum(['ocpp1.6', 'ocpp2.0.1'])
      .nullable()
      .meta({ description: 'The subprotocol of its latest connection' }),
    connectedAt: instantJson.nullable(),
    connectedUntil: instantJson.nullable().meta({
      description:
        'The end of the lease of a connection not recorded as closed (null once it is); in the past, with ' +
        '`connected` false: the instance holding it stopped renewing (it died) at most one lease before',
    }),
    disconnectedAt: instantJson.nullable(),
    lastBootAt: instantJson.nullable(),
    lastHeartbeatAt: instantJson.nullable(),
    vendor: z.string().nullable(),
    model: z.string().nullable(),
    firmwareVersion: z.string().nullable(),
    connectors: z.array(
      z.object({
        connectorId: z.number().int().meta({ description: 'The connector (1.6) or EVSE (2.0.1) id' }),
        meterId: z.string().meta({ description: 'The meter its register readings are stored under' }),
        status: z.string().meta({ description: 'The latest StatusNotification status' }),
        errorCode: z.string().nullable().meta({ description: 'OCPP 1.6 only (2.0.1 statuses have none)' }),
        info: z.string().nullable(),
        statusAt: instantJson,
      }),
    ),
    openTransactions: z
      .array(
        z.object({
          transactionId: z.union([z.number().int(), z.string()]).meta({
            description: "1.6: the transactionId the service gave; 2.0.1: the station's own transactionId",
          }),
          connectorId: z.number().int(),
          meterId: z.string(),
          idToken: z
            .string()
            .nullable()
            .meta({ description: 'As sent; null for a 2.0.1 transaction not yet authorized' }),
          vehicleId: z.string().nullable().meta({ description: 'The vehicle its token assigned; null for none' }),
          startedAt: instantJson,
        }),
      )
      .meta({
        description:
          'Transactions started and not stopped, oldest first (a station that never sends the stop leaves one open)',
      }),
  })
  .meta({ id: 'ChargePoint' });
