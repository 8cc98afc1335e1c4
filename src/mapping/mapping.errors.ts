import { AppError } from '../http/app-error.js';

/** The 404 of every route that needs a vehicle's meter. */
export const vehicleNotMapped = (vehicleId: string) =>
  new AppError('vehicle_not_mapped', `Vehicle ${vehicleId} has no meter mapped.`);
