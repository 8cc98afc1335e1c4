import { idTokenStatus } from './id-token-status.js';
import {
  connectorMeterId,
  registerKwh,
  registerReadings,
  type MeterValue16,
  type SourcedReading,
} from './meter-values.js';
import { sampled, storeRegisterReadings } from './ocpp-readings.js';
import { ocppError, type CallHandler } from './ocpp-rpc.js';
import type { OcppHandlerDeps } from './ocpp16-handlers.js';
import { assignForTransaction, endTransaction } from './transaction-assignments.js';
import { findTransaction, startTransaction } from './transaction.repository.js';

// The fields the handlers read, as the official 1.6 schemas type them (strict mode has checked).
interface AuthorizeReq {
  idTag: string;
}
interface StartTransactionReq {
  connectorId: number;
  idTag: string;
  meterStart: number;
  timestamp: string;
}
interface StopTransactionReq {
  transactionId: number;
  meterStop: number;
  timestamp: string;
  idTag?: string;
  reason?: string;
  transactionData?: MeterValue16[];
}

/** The transaction's register at its start or stop (whole Wh in 1.6): a register reading. */
function meterReading(meterId: string, wh: number, timestamp: string, path: string): SourcedReading {
  return {
    reading: { meterId, kwhConsumedAcTotal: registerKwh(String(wh), 'Wh', path), voltage: 0, timestamp },
    path,
  };
}

/**
 * Authorize, StartTransaction, StopTransaction. An id token is `Accepted` when an admin mapped
 * it to a vehicle (PUT /v1/id-tokens/{idToken}), `Invalid` otherwise. The registers at start
 * and stop (and the stop's transactionData) are register readings of the connector's meter,
 * stored, like MeterValues, before the answer; a mapped token's vehicle draws from that meter
 * for the session (transaction-assignments.ts).
 */
export function ocpp16TransactionHandlers(chargePointId: string, deps: OcppHandlerDeps): Record<string, CallHandler> {
  const context = { chargePointId, acceptUnknown: deps.acceptUnknownIdTokens };
  const idTagStatus = async (idTag: string) => (await idTokenStatus(deps.db, idTag, context)).status;
  return {
    Authorize: async (params) => ({ idTagInfo: { status: await idTagStatus((params as AuthorizeReq).idTag) } }),
    StartTransaction: async (params) => {
      const start = params as StartTransactionReq;
      const meterId = connectorMeterId(chargePointId, start.connectorId);
      if (start.connectorId === 0) {
        throw ocppError(
          'PropertyConstraintViolation',
          'connectorId: a transaction is on a connector (1 or more), not 0',
        );
      }
      const reading = sampled(() => meterReading(meterId, start.meterStart, start.timestamp, 'meterStart'));
      await storeRegisterReadings(deps.ingestion, deps.limits, [reading]);
      const { status, vehicleId } = await idTokenStatus(deps.db, start.idTag, context);
      const startedAt = new Date(start.timestamp);
      const transactionId = await startTransaction(deps.db, {
        chargePointId,
        connectorId: start.connectorId,
        idTag: start.idTag,
        idTagStatus: status,
        vehicleId: vehicleId ?? null,
        startedAt,
        meterStartWh: start.meterStart,
      });
      if (vehicleId !== undefined) {
        await assignForTransaction(deps.db, deps.logger, { chargePointId, vehicleId, meterId, startedAt });
      }
      return { idTagInfo: { status }, transactionId };
    },
    StopTransaction: async (params) => {
      const stop = params as StopTransactionReq;
      const transaction = await findTransaction(deps.db, chargePointId, stop.transactionId);
      if (!transaction) {
        throw ocppError(
          'PropertyConstraintViolation',
          `transactionId: ${stop.transactionId} is not a transaction this station started`,
        );
      }
      const meterId = connectorMeterId(chargePointId, transaction.connectorId);
      const readings = sampled(() => [
        meterReading(meterId, stop.meterStop, stop.timestamp, 'meterStop'),
        ...registerReadings(meterId, stop.transactionData ?? [], 'transactionData').readings,
      ]);
      await storeRegisterReadings(deps.ingestion, deps.limits, readings);
      await endTransaction(
        deps.db,
        deps.logger,
        { ...transaction, transactionId: stop.transactionId, chargePointId, meterId },
        { stoppedAt: new Date(stop.timestamp), meterStopWh: stop.meterStop, reason: stop.reason ?? null },
      );
      return stop.idTag === undefined ? {} : { idTagInfo: { status: await idTagStatus(stop.idTag) } };
    },
  };
}
