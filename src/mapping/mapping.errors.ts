import { AppError } from '../http/app-error.js';

/** The 404 of every route that needs a vehicle's meter, and how the reference documents it. */
export const vehicleNotMapped = (vehicleId: string) =>
  AppError.notFound('vehicle_not_found', `Vehicle ${vehicleId} has no meter mapped.`);

export const VEHICLE_NOT_MAPPED_DOC = 'The vehicle has no meter mapped (vehicle_not_found)';
