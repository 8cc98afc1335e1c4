import type { Db } from '../db/database.js';
import { AppError } from '../http/app-error.js';
import type { Logger } from '../logger.js';
import { assignMeters, correctAssignment } from '../mapping/assignment.service.js';
import { findAssignmentsOfVehicle } from '../mapping/mapping.repository.js';
import { END_OF_TIME } from '../time.js';
import { stopTransaction } from './transaction.repository.js';

/**
 * A transaction with a mapped id token makes its vehicle draw from the connector's meter for
 * the session, through the assignment history (audited, actor `ocpp:{chargePointId}`).
 *
 * The bounds are the start and the stop, each 1 ms later: a reading is the energy of the
 * interval that ends at its timestamp, so the reading at the start (the register at plug-in)
 * covers the time before the session and the one at the stop the end of the session. With
 * the assignment `[start + 1 ms, stop + 1 ms)` the vehicle is attributed exactly
 * meterStop − meterStart (timestamps are kept to the millisecond). A back-to-back next session
 * starts where this one ends.
 *
 * A collision with another assignment (a manual one of the same meter or vehicle in the
 * session) leaves the history as it is: the manual assignment stands, the transaction is
 * still accepted, and the collision is logged. A vehicle already drawing from that meter
 * open-ended since before the session is left as it is (its assignment is not the
 * transaction's, the stop does not end it).
 */
const SHIFT_MS = 1;
const shifted = (at: Date) => new Date(at.getTime() + SHIFT_MS);

export async function assignForTransaction(
  db: Db,
  logger: Logger,
  session: { chargePointId: string; vehicleId: string; meterId: string; startedAt: Date },
): Promise<void> {
  try {
    await assignMeters(
      db,
      [{ vehicleId: session.vehicleId, meterId: session.meterId, from: shifted(session.startedAt) }],
      `ocpp:${session.chargePointId}`,
    );
  } catch (error) {
    if (!(error instanceof AppError && error.code === 'assignment_conflict')) throw error;
    logger.warn('ocpp transaction not assigned: it collides with another assignment', {
      ...session,
      conflicts: error.details?.map((d) => d.message),
    });
  }
}

async function endTransactionAssignment(
  db: Db,
  logger: Logger,
  session: { chargePointId: string; vehicleId: string; meterId: string; startedAt: Date; stoppedAt: Date },
): Promise<void> {
  const from = shifted(session.startedAt);
  const ours = (await findAssignmentsOfVehicle(db, session.vehicleId)).find(
    (a) => a.meter_id === session.meterId && a.valid_from.getTime() === from.getTime(),
  );
  const to = shifted(session.stoppedAt);
  // Ended already (a resent stop, or corrected by an admin: theirs stands), or not the
  // transaction's: nothing to do.
  if (!ours || ours.valid_to.getTime() < END_OF_TIME.getTime() || to.getTime() <= from.getTime()) return;
  try {
    await correctAssignment(db, ours.id, { from: ours.valid_from, to }, `ocpp:${session.chargePointId}`);
  } catch (error) {
    if (!(error instanceof AppError && error.code === 'assignment_conflict')) throw error;
    logger.warn('ocpp transaction assignment not ended: it collides with another assignment', { ...session });
  }
}

/**
 * A transaction's end, for both protocol versions: the stop recorded (a resent one keeps the
 * first), then its vehicle's assignment ended there.
 */
export async function endTransaction(
  db: Db,
  logger: Logger,
  transaction: {
    transactionId: number;
    chargePointId: string;
    meterId: string;
    vehicleId: string | null;
    startedAt: Date;
  },
  stop: { stoppedAt: Date; meterStopWh: number | null; reason: string | null },
): Promise<void> {
  await stopTransaction(db, transaction.transactionId, stop);
  if (transaction.vehicleId === null) return;
  await endTransactionAssignment(db, logger, {
    chargePointId: transaction.chargePointId,
    vehicleId: transaction.vehicleId,
    meterId: transaction.meterId,
    startedAt: transaction.startedAt,
    stoppedAt: stop.stoppedAt,
  });
}
