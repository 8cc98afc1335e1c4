import { recordBoot, recordConnectorStatus, recordHeartbeat } from './charge-point.repository.js';
import { connectorMeterId, registerReadings, SampleError, type MeterValue16 } from './meter-values.js';
import { storeRegisterReadings } from './ocpp-readings.js';
import { ocppError, type CallHandler } from './ocpp-rpc.js';
import type { OcppHandlerDeps } from './ocpp16-handlers.js';

// The fields the handlers read, as the official 2.0.1 schemas type them (strict mode has checked).
interface BootNotificationRequest {
  chargingStation: { vendorName: string; model: string; firmwareVersion?: string };
}
interface StatusNotificationRequest {
  timestamp: string;
  connectorStatus: string;
  evseId: number;
  connectorId: number;
}
interface SampledValue201 {
  value: number;
  measurand?: string;
  phase?: string;
  location?: string;
  unitOfMeasure?: { unit?: string; multiplier?: number };
}
interface MeterValue201 {
  timestamp: string;
  sampledValue: SampledValue201[];
}
interface MeterValuesRequest {
  evseId: number;
  meterValue: MeterValue201[];
}

/**
 * 2.0.1 meter values in the 1.6 shape the rules of meter-values.ts read. The value is a JSON
 * number here, already a double when it arrives: its shortest decimal form is taken as sent.
 */
function asMeterValues16(meterValues: readonly MeterValue201[]): MeterValue16[] {
  return meterValues.map((meterValue) => ({
    timestamp: meterValue.timestamp,
    sampledValue: meterValue.sampledValue.map((sample) => ({
      value: String(sample.value),
      ...(sample.measurand === undefined ? {} : { measurand: sample.measurand }),
      ...(sample.phase === undefined ? {} : { phase: sample.phase }),
      ...(sample.location === undefined ? {} : { location: sample.location }),
      ...(sample.unitOfMeasure?.unit === undefined ? {} : { unit: sample.unitOfMeasure.unit }),
      multiplier: sample.unitOfMeasure?.multiplier ?? 0,
    })),
  }));
}

/**
 * The OCPP 2.0.1 actions the service implements. Each EVSE is a meter, `{chargePointId}:{evseId}`;
 * the rest is as in 1.6 (ocpp16-handlers.ts). TransactionEvent is not implemented yet.
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
      let readings;
      try {
        let ignored;
        ({ readings, ignored } = registerReadings(
          connectorMeterId(chargePointId, call.evseId),
          asMeterValues16(call.meterValue),
        ));
        deps.countIgnored(ignored);
      } catch (error) {
        if (error instanceof SampleError) throw ocppError('PropertyConstraintViolation', error.message);
        throw error;
      }
      await storeRegisterReadings(deps.ingestion, deps.limits, readings);
      return {};
    },
  };
}
