import { z } from 'zod';
import { deviceIdSchema } from '../http/device-id.schema.js';

export const setMeterBody = z.object({ meterId: deviceIdSchema });
