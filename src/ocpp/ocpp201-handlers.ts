import { recordBoot, recordConnectorStatus, recordHeartbeat } from './charge-point.repository.js';
import { connectorMeterId, registerReadings } from './meter-values.js';
import { asMeterValues16, type MeterValue201 } from './meter-values201.js';
import { sampled, storeRegisterReadings } from './ocpp-readings.js';
import type { CallHandler } from './ocpp-rpc.js';
import type { OcppHandlerDeps } from './ocpp16-handlers.js';
import { ocpp201TransactionHandlers } from './ocpp201-transactions.js';

// The fields the handlers read, as the official 2.0.1 schemas type them (strict mode has checked).
interface MeterValuesRequest {
  evseId: number;
  meterValue: MeterValue201[];
}
interface BootNotificationRequest {
  chargingStation: { vendorName: string; model: string; firmwareVersion?: string };
}
interface StatusNotificationRequest {
  timestamp: string;
  connectorStatus: string;
  evseId: number;
  connectorId: number;
}

/**
 * The OCPP 2.0.1 actions the service implements. Each EVSE is a meter, `{chargePointId}:{evseId}`;
 * the rest is as in 1.6 (ocpp16-handlers.ts). Authorize and TransactionEvent: ocpp201-transactions.ts.
 */
export function ocpp201Handlers(chargePointId: string, deps: OcppHandlerDeps): Record<string, CallHandler> {
  const now = () => new Date().toISOString();
  return {
    BootNotification: async (params) => {
      const { chargingStation } = params as BootNotificationRequest;
      await recordBoot(deps.db, chargePointId, {
        vendor: chargingStation.vendorName,
        model: chargingStation.model,
        firmwareVersion: chargingStation.firmwareVersion ?? null,
      });
      return { status: 'Accepted', currentTime: now(), interval: deps.heartbeatIntervalSeconds };
    },
    Heartbeat: async () => {
      await recordHeartbeat(deps.db, chargePointId);
      return { currentTime: now() };
    },
    StatusNotification: async (params) => {
      const status = params as StatusNotificationRequest;
      await recordConnectorStatus(deps.db, chargePointId, {
        connectorId: status.evseId,
        status: status.connectorStatus,
        errorCode: null,
        info: null,
        statusAt: new Date(status.timestamp),
      });
      return {};
    },
    MeterValues: async (params) => {
      const call = params as MeterValuesRequest;
      const { readings, ignored } = sampled(() =>
        registerReadings(connectorMeterId(chargePointId, call.evseId), asMeterValues16(call.meterValue)),
      );
      deps.countIgnored(ignored);
      await storeRegisterReadings(deps.ingestion, deps.limits, readings);
      return {};
    },
    ...ocpp201TransactionHandlers(chargePointId, deps),
  };
}
