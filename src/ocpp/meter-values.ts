import { sameDecimal } from '../telemetry/register-precision.js';

/**
 * OCPP 1.6 sampled values to the register readings of the HTTP API. Pure: what is stored, and
 * what is refused, is decided here; the write path is the HTTP one (ocpp-readings.ts).
 *
 * Rules (docs/ocpp.md):
 * - the register is the sample whose measurand is `Energy.Active.Import.Register` (the default
 *   when omitted) with no phase, at the outlet (the default location), in `Raw` format (a
 *   `SignedData` value is not a number);
 * - its unit is `Wh` (the default) or `kWh`; the value is converted to kWh in decimal, and one
 *   whose digits a double does not hold is refused rather than rounded (as on the HTTP path);
 * - the reading's voltage is the `Voltage` sample with no phase, else the one of phase L1-N,
 *   else L1, else the first; without any it is 0 V (not measured);
 * - every other sample is ignored (and counted).
 */

/** Each connector of a station is a meter of its own: `{chargePointId}:{connectorId}`. */
export const connectorMeterId = (chargePointId: string, connectorId: number) => `${chargePointId}:${connectorId}`;

export interface SampledValue16 {
  value: string;
  /** 2.0.1 only (unitOfMeasure.multiplier): the value is value × 10^multiplier of the unit. */
  multiplier?: number;
  context?: string;
  format?: string;
  measurand?: string;
  phase?: string;
  location?: string;
  unit?: string;
}

export interface MeterValue16 {
  timestamp: string;
  sampledValue: SampledValue16[];
}

/** A register reading shaped as the HTTP body takes it, validated by the same schema. */
export interface RegisterReadingInput {
  meterId: string;
  kwhConsumedAcTotal: number;
  voltage: number;
  timestamp: string;
}

/** Where a value came from in the call, for the error that names it. */
export interface SourcedReading {
  reading: RegisterReadingInput;
  path: string;
}

export class SampleError extends Error {
  override name = 'SampleError';
}

export const REGISTER_MEASURAND = 'Energy.Active.Import.Register';
const DECIMAL = /^(-?\d+(?:\.\d+)?)(?:[eE]([+-]?\d+))?$/;

/** A register value in `unit` as exact kWh, or a SampleError saying why not. */
export function registerKwh(value: string, unit: string | undefined, path: string, multiplier = 0): number {
  const match = DECIMAL.exec(value.trim());
  if (!match) throw new SampleError(`${path}.value: "${value}" is not a decimal number`);
  const [, mantissa = '', exponent = '0'] = match;
  let scale: number;
  if (unit === undefined || unit === 'Wh') scale = -3;
  else if (unit === 'kWh') scale = 0;
  else throw new SampleError(`${path}.unit: an energy register is in Wh or kWh, not ${unit}`);
  const exact = `${mantissa}e${Number(exponent) + scale + multiplier}`;
  const kwh = Number(exact);
  if (!Number.isFinite(kwh) || !sameDecimal(String(kwh), exact)) {
    throw new SampleError(
      `${path}.value: ${value} ${unit ?? 'Wh'} has more significant digits than are kept ` +
        '(every value of up to 15 significant digits is kept exactly)',
    );
  }
  return kwh;
}

const VOLTAGE_PHASE_PREFERENCE = [undefined, 'L1-N', 'L1'];

function voltageOf(samples: readonly SampledValue16[], path: string): number {
  const voltages = samples
    .map((sample, index) => ({ sample, index }))
    .filter(({ sample }) => sample.measurand === 'Voltage' && sample.format !== 'SignedData');
  if (voltages.length === 0) return 0;
  const chosen =
    VOLTAGE_PHASE_PREFERENCE.map((phase) => voltages.find(({ sample }) => sample.phase === phase)).find(Boolean) ??
    voltages[0];
  if (!chosen) return 0;
  const volts = Number(`${chosen.sample.value.trim()}e${chosen.sample.multiplier ?? 0}`);
  if (chosen.sample.value.trim() === '' || !Number.isFinite(volts)) {
    throw new SampleError(`${path}[${chosen.index}].value: "${chosen.sample.value}" is not a number`);
  }
  return volts;
}

function isRegister(sample: SampledValue16): boolean {
  return (
    (sample.measurand ?? REGISTER_MEASURAND) === REGISTER_MEASURAND &&
    sample.phase === undefined &&
    (sample.location ?? 'Outlet') === 'Outlet' &&
    (sample.format ?? 'Raw') === 'Raw'
  );
}

/** The register readings of a MeterValues call, and how many samples were not a register or a voltage. */
export function registerReadings(
  meterId: string,
  meterValues: readonly MeterValue16[],
  path = 'meterValue',
): { readings: SourcedReading[]; ignored: number } {
  const readings: SourcedReading[] = [];
  let ignored = 0;
  meterValues.forEach((meterValue, i) => {
    const samplesPath = `${path}[${i}].sampledValue`;
    const voltage = voltageOf(meterValue.sampledValue, samplesPath);
    meterValue.sampledValue.forEach((sample, j) => {
      if (!isRegister(sample)) {
        if (sample.measurand !== 'Voltage') ignored += 1;
        return;
      }
      const samplePath = `${samplesPath}[${j}]`;
      readings.push({
        reading: {
          meterId,
          kwhConsumedAcTotal: registerKwh(sample.value, sample.unit, samplePath, sample.multiplier),
          voltage,
          timestamp: meterValue.timestamp,
        },
        path: samplePath,
      });
    });
  });
  return { readings, ignored };
}
