import type { MeterValue16 } from './meter-values.js';

// 2.0.1 meter values, as the official schema types them (strict mode has checked).
export interface SampledValue201 {
  value: number;
  measurand?: string;
  phase?: string;
  location?: string;
  unitOfMeasure?: { unit?: string; multiplier?: number };
}
export interface MeterValue201 {
  timestamp: string;
  sampledValue: SampledValue201[];
}

/**
 * 2.0.1 meter values in the 1.6 shape the rules of meter-values.ts read. The value is a JSON
 * number here, already a double when it arrives: its shortest decimal form is taken as sent.
 */
export function asMeterValues16(meterValues: readonly MeterValue201[]): MeterValue16[] {
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
