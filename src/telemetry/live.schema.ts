import { z } from 'zod';

import { instantJson } from '../http/common.schema.js';

export const meterLive = z
  .object({
    meterId: z.string(),
    kwhConsumedAc: z
      .number()
      .meta({ description: 'Energy of the interval ending at the timestamp (derived for a register reading)' }),
    kwhConsumedAcTotal: z
      .number()
      .nullable()
      .meta({ description: 'The register the reading carried; null for an interval reading' }),
    voltage: z.number(),
    timestamp: instantJson.meta({ description: 'Device timestamp of the latest reading' }),
    receivedAt: instantJson.meta({ description: 'When the service stored it' }),
  })
  .meta({ id: 'MeterLive' });

export const vehicleLive = z
  .object({
    vehicleId: z.string(),
    soc: z.number(),
    kwhDeliveredDc: z
      .number()
      .meta({ description: 'Energy of the interval ending at the timestamp (derived for a register reading)' }),
    kwhDeliveredDcTotal: z
      .number()
      .nullable()
      .meta({ description: 'The register the reading carried; null for an interval reading' }),
    batteryTemp: z.number(),
    timestamp: instantJson.meta({ description: 'Device timestamp of the latest reading' }),
    receivedAt: instantJson.meta({ description: 'When the service stored it' }),
  })
  .meta({ id: 'VehicleLive' });
