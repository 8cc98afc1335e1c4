import { z } from 'zod';

import { instantJson } from '../http/common.schema.js';

export const meterLive = z
  .object({
    meterId: z.string(),
    kwhConsumedAc: z.number(),
    voltage: z.number(),
    timestamp: instantJson.meta({ description: 'Device timestamp of the latest reading' }),
    receivedAt: instantJson.meta({ description: 'When the service stored it' }),
  })
  .meta({ id: 'MeterLive' });

export const vehicleLive = z
  .object({
    vehicleId: z.string(),
    soc: z.number(),
    kwhDeliveredDc: z.number(),
    batteryTemp: z.number(),
    timestamp: instantJson.meta({ description: 'Device timestamp of the latest reading' }),
    receivedAt: instantJson.meta({ description: 'When the service stored it' }),
  })
  .meta({ id: 'VehicleLive' });
