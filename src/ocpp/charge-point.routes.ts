import type { Scope } from '../auth/api-key.table.js';
import type { Db } from '../db/database.js';
import type { ApiRouter } from '../http/api-router.js';
import { AppError } from '../http/app-error.js';
import { hashPassword } from './charge-point-password.js';
import { findChargePoint, setPasswordHash, type StoredChargePoint } from './charge-point.repository.js';
import { chargePointParams, chargePointView, setPasswordBody } from './charge-point.schema.js';
import { connectorMeterId } from './meter-values.js';

const iso = (date: Date | null) => date?.toISOString() ?? null;

const present = (station: StoredChargePoint) => ({
  chargePointId: station.charge_point_id,
  connected: station.connected,
  protocol: station.protocol,
  connectedAt: iso(station.connected_at),
  connectedUntil: station.disconnected_at === null ? iso(station.connected_until) : null,
  disconnectedAt: iso(station.disconnected_at),
  lastBootAt: iso(station.last_boot_at),
  lastHeartbeatAt: iso(station.last_heartbeat_at),
  vendor: station.vendor,
  model: station.model,
  firmwareVersion: station.firmware_version,
  connectors: station.connectors.map((c) => ({
    connectorId: c.connector_id,
    meterId: connectorMeterId(station.charge_point_id, c.connector_id),
    status: c.status,
    errorCode: c.error_code,
    info: c.info,
    statusAt: c.status_at.toISOString(),
  })),
  openTransactions: station.openTransactions.map((tx) => ({
    // The id the station knows it by: ours (1.6 StartTransaction's answer) or its own (2.0.1).
    transactionId: tx.ocpp_transaction_id ?? tx.transaction_id,
    connectorId: tx.connector_id,
    meterId: connectorMeterId(station.charge_point_id, tx.connector_id),
    idToken: tx.id_tag,
    vehicleId: tx.vehicle_id,
    startedAt: tx.started_at.toISOString(),
  })),
});

async function stationOrThrow(db: Db, chargePointId: string): Promise<StoredChargePoint> {
  const station = await findChargePoint(db, chargePointId);
  if (!station) throw new AppError('charge_point_not_found', `No charge point ${chargePointId}.`);
  return station;
}

/** OCPP charging stations (docs/ocpp.md): their passwords and what they reported (admin scope). */
export function registerChargePointRoutes(api: ApiRouter<Scope>, db: Db): void {
  api.add({
    method: 'put',
    path: '/v1/charge-points/:chargePointId',
    operationId: 'setChargePointPassword',
    tag: 'Charge points',
    summary: 'Register an OCPP charging station, or change its password',
    description:
      'The station connects to `ws://HOST:PORT/ocpp/{chargePointId}` with HTTP Basic authentication (user name: its ' +
      'id, this password): OCPP security profile 1, or 2 behind TLS termination. The password is kept as a scrypt ' +
      'hash only; a new one applies to the next connection (an open one stays open).',
    scope: 'admin',
    request: { params: chargePointParams, body: setPasswordBody },
    status: 200,
    response: { description: 'The station', schema: chargePointView },
    handler: async ({ params, body }) => {
      await setPasswordHash(db, params.chargePointId, await hashPassword(body.password));
      return present(await stationOrThrow(db, params.chargePointId));
    },
  });

  api.add({
    method: 'get',
    path: '/v1/charge-points/:chargePointId',
    operationId: 'getChargePoint',
    tag: 'Charge points',
    summary: 'A station: connected or not, protocol, last heartbeat, connector statuses, open transactions',
    scope: 'admin',
    request: { params: chargePointParams },
    status: 200,
    response: { description: 'The station', schema: chargePointView },
    errors: ['charge_point_not_found'],
    handler: async ({ params }) => present(await stationOrThrow(db, params.chargePointId)),
  });
}
