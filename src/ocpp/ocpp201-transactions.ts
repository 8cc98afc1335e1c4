import { idTokenStatus } from './id-token-status.js';
import { connectorMeterId, registerReadings } from './meter-values.js';
import { asMeterValues16, type MeterValue201 } from './meter-values201.js';
import { sampled, storeRegisterReadings } from './ocpp-readings.js';
import { ocppError, type CallHandler } from './ocpp-rpc.js';
import type { OcppHandlerDeps } from './ocpp16-handlers.js';
import { assignForTransaction, endTransaction } from './transaction-assignments.js';
import {
  findTransaction201,
  setTransactionToken,
  startTransaction201,
  type Transaction201,
} from './transaction.repository.js';

// The fields the handlers read, as the official 2.0.1 schemas type them (strict mode has checked).
interface IdToken201 {
  idToken: string;
  type: string;
}
interface AuthorizeRequest {
  idToken: IdToken201;
}
interface TransactionEventRequest {
  eventType: 'Started' | 'Updated' | 'Ended';
  timestamp: string;
  seqNo: number;
  offline?: boolean;
  transactionInfo: { transactionId: string; stoppedReason?: string };
  evse?: { id: number; connectorId?: number };
  idToken?: IdToken201;
  meterValue?: MeterValue201[];
}

/**
 * Authorize and TransactionEvent (2.0.1), with the rules of 1.6's transactions
 * (ocpp16-transactions.ts): the same token status (id-token-status.ts), the registers through
 * the same write path before the answer, the same assignments (transaction-assignments.ts).
 *
 * A transaction is recorded at its first event (Started, or a later one if the Started never
 * came) under the station's transactionId, so a resent event finds it and changes nothing;
 * the EVSE (its meter) is the first event's. Its vehicle is that of the first event that
 * carries a mapped token (often an Updated: the driver authorizes after plugging in); it draws
 * from the EVSE's meter from the transaction's start to the Ended event. `seqNo` and `offline`
 * need nothing: events sent late carry their own timestamps, and their readings are late
 * readings like any other.
 */
export function ocpp201TransactionHandlers(chargePointId: string, deps: OcppHandlerDeps): Record<string, CallHandler> {
  const assign = (transaction: Transaction201, vehicleId: string) =>
    assignForTransaction(deps.db, deps.logger, {
      chargePointId,
      vehicleId,
      meterId: connectorMeterId(chargePointId, transaction.connectorId),
      startedAt: transaction.startedAt,
    });
  const context = { chargePointId, acceptUnknown: deps.acceptUnknownIdTokens };
  return {
    Authorize: async (params) => {
      const { idToken } = (params as AuthorizeRequest).idToken;
      const { status } = await idTokenStatus(deps.db, idToken, context);
      return { idTokenInfo: { status } };
    },
    TransactionEvent: async (params) => {
      const event = params as TransactionEventRequest;
      const ocppTransactionId = event.transactionInfo.transactionId;
      const known = await findTransaction201(deps.db, chargePointId, ocppTransactionId);
      const evseId = known?.connectorId ?? event.evse?.id;
      if (evseId === undefined || evseId < 1) {
        throw ocppError(
          'PropertyConstraintViolation',
          `evse.id: the first event of transaction ${ocppTransactionId} names its EVSE (1 or more)`,
        );
      }
      const meterId = connectorMeterId(chargePointId, evseId);
      const { readings, ignored } = sampled(() =>
        registerReadings(meterId, asMeterValues16(event.meterValue ?? []), 'meterValue'),
      );
      deps.countIgnored(ignored);
      await storeRegisterReadings(deps.ingestion, deps.limits, readings);

      const token = event.idToken && {
        idTag: event.idToken.idToken,
        ...(await idTokenStatus(deps.db, event.idToken.idToken, context)),
      };
      let transaction: Transaction201;
      if (known) {
        transaction = known;
        const tokenRecord = token && {
          idTag: token.idTag,
          idTagStatus: token.status,
          vehicleId: token.vehicleId ?? null,
        };
        if (
          tokenRecord &&
          known.idTag === null &&
          (await setTransactionToken(deps.db, known.transactionId, tokenRecord))
        ) {
          transaction = { ...known, idTag: tokenRecord.idTag, vehicleId: tokenRecord.vehicleId };
          if (tokenRecord.vehicleId !== null) await assign(transaction, tokenRecord.vehicleId);
        }
      } else {
        const recorded = await startTransaction201(deps.db, {
          chargePointId,
          ocppTransactionId,
          connectorId: evseId,
          startedAt: new Date(event.timestamp),
          idTag: token?.idTag ?? null,
          idTagStatus: token?.status ?? null,
          vehicleId: token?.vehicleId ?? null,
        });
        transaction = recorded;
        if (recorded.created && recorded.vehicleId !== null) await assign(recorded, recorded.vehicleId);
      }

      if (event.eventType === 'Ended') {
        await endTransaction(
          deps.db,
          deps.logger,
          { ...transaction, chargePointId, meterId },
          {
            stoppedAt: new Date(event.timestamp),
            meterStopWh: null,
            reason: event.transactionInfo.stoppedReason ?? null,
          },
        );
      }
      return token ? { idTokenInfo: { status: token.status } } : {};
    },
  };
}
