import type { MeterReadingBody, VehicleReadingBody } from '../../src/telemetry/ingestion.schema.js';
import { between, seededRandom, type Random } from './random.js';

/** What the simulator sends: the API's own reading bodies. */
export type MeterPayload = MeterReadingBody;
export type VehiclePayload = VehicleReadingBody;

const round = (value: number, digits: number) => Number(value.toFixed(digits));

/**
 * How devices report energy: `interval` (energy since the previous reading) or `register`
 * (a running total, as OCPP meters do). Registers are kept in whole micro-kWh, so the
 * differences the service takes are the interval energies exactly.
 */
export type EnergyForm = 'interval' | 'register';
export const ENERGY_FORMS: readonly EnergyForm[] = ['interval', 'register'];

/** A meter reboots about once a week (its register restarts from zero). */
const METER_REBOOT_PER_MINUTE = 1 / 10_000;
const MICRO = 1_000_000;

/** Charger's standby draw while nothing charges (kW): the meter sees it, the battery does not. */
const STANDBY_KW = 0.03;
const RAMP_MINUTES = 4;

/**
 * One vehicle with its charger's meter, stepped a minute at a time: unplugged (driving,
 * state of charge falls), then a charging session (ramp up, constant power, taper above
 * 80 %, unplug at the target). AC drawn = DC delivered / efficiency; healthy vehicles sit
 * at 0.88-0.95, faulty ones below 0.85. The battery warms with the charging power.
 */
export class SimulatedVehicle {
  readonly vehicleId: string;
  readonly meterId: string;
  readonly faulty: boolean;
  readonly efficiency: number;
  private readonly rnd: Random;
  private readonly capacityKwh: number;
  private readonly maxPowerKw: number;
  private readonly ambientC: number;
  private soc: number;
  private temp: number;
  private charging = false;
  private minutesCharging = 0;
  private targetSoc = 90;
  /** Register mode: the running totals in micro-kWh. */
  private meterRegister: number;
  private vehicleRegister = 0;
  /** Some vehicles count their DC register per charging session (it restarts at each plug-in). */
  private readonly registerPerSession: boolean;
  private readonly registerRnd: Random;

  constructor(
    index: number,
    seed: number,
    faultyShare: number,
    private readonly energyForm: EnergyForm = 'interval',
  ) {
    this.rnd = seededRandom(seed * 1_000_003 + index);
    this.vehicleId = `sim-ev-${String(index).padStart(5, '0')}`;
    this.meterId = `sim-meter-${String(index).padStart(5, '0')}`;
    this.faulty = this.rnd() < faultyShare;
    this.efficiency = this.faulty ? between(this.rnd, 0.7, 0.82) : between(this.rnd, 0.88, 0.95);
    this.capacityKwh = between(this.rnd, 50, 100);
    this.maxPowerKw = [7.4, 11, 22][Math.floor(this.rnd() * 3)]!;
    this.ambientC = between(this.rnd, 8, 24);
    this.soc = between(this.rnd, 20, 90);
    this.temp = this.ambientC;
    this.charging = this.rnd() < 0.3;
    // Register behaviour draws from its own stream: a seed gives the same charging in both
    // forms, and the interval form the same readings as before registers existed.
    this.registerRnd = seededRandom(seed * 7_919 + index + 1);
    this.meterRegister = Math.floor(this.registerRnd() * 40_000) * MICRO;
    this.registerPerSession = this.registerRnd() < 0.5;
  }

  /** Plugged in and charging (a session runs from the minute it plugs in to the minute it unplugs). */
  get plugged(): boolean {
    return this.charging;
  }

  /** Advances one minute and returns the readings both devices send for it. */
  step(at: Date): { meter: MeterPayload; vehicle: VehiclePayload } {
    let dcKw = 0;
    if (this.charging) {
      this.minutesCharging += 1;
      const ramp = Math.min(1, this.minutesCharging / RAMP_MINUTES);
      const taper = this.soc > 80 ? Math.max(0.08, (100 - this.soc) / 20) : 1;
      dcKw = this.maxPowerKw * this.efficiency * ramp * taper;
      this.soc = Math.min(100, this.soc + (dcKw / 60 / this.capacityKwh) * 100);
      if (this.soc >= this.targetSoc) this.unplug();
    } else {
      // Driving some of the time: about 15 kWh per 100 km at 40 km/h.
      if (this.rnd() < 0.4)
        this.soc = Math.max(3, this.soc - ((0.1 * between(this.rnd, 0.5, 1.5)) / this.capacityKwh) * 100);
      if (this.soc < 35 ? this.rnd() < 0.08 : this.rnd() < 0.002) this.plugIn();
    }
    const dcKwh = dcKw / 60;
    const noise = between(this.rnd, -0.008, 0.008);
    const acKwh = dcKw > 0 ? dcKwh / (this.efficiency + noise) + STANDBY_KW / 60 : STANDBY_KW / 60;
    const targetTemp = this.ambientC + dcKw * 0.9;
    this.temp += (targetTemp - this.temp) * 0.08;
    const timestamp = at.toISOString();
    const voltage = round(230 + between(this.rnd, -4, 4), 2);
    const batteryTemp = round(this.temp + between(this.rnd, -0.2, 0.2), 2);
    const kwhConsumedAc = round(acKwh, 6);
    const kwhDeliveredDc = round(dcKwh, 6);
    if (this.energyForm === 'interval') {
      return {
        meter: { meterId: this.meterId, kwhConsumedAc, voltage, timestamp },
        vehicle: { vehicleId: this.vehicleId, soc: round(this.soc, 2), kwhDeliveredDc, batteryTemp, timestamp },
      };
    }
    // A reboot: the register counts this minute's energy from zero.
    const ac = Math.round(kwhConsumedAc * MICRO);
    this.meterRegister = this.registerRnd() < METER_REBOOT_PER_MINUTE ? ac : this.meterRegister + ac;
    this.vehicleRegister += Math.round(kwhDeliveredDc * MICRO);
    return {
      meter: { meterId: this.meterId, kwhConsumedAcTotal: this.meterRegister / MICRO, voltage, timestamp },
      vehicle: {
        vehicleId: this.vehicleId,
        soc: round(this.soc, 2),
        kwhDeliveredDcTotal: this.vehicleRegister / MICRO,
        batteryTemp,
        timestamp,
      },
    };
  }

  private plugIn(): void {
    // A per-session register restarts at zero; the next reading then counts from zero.
    if (this.registerPerSession) this.vehicleRegister = 0;
    this.charging = true;
    this.minutesCharging = 0;
    this.targetSoc = between(this.rnd, 80, 100);
  }

  private unplug(): void {
    this.charging = false;
  }
}

export function createFleet(
  size: number,
  seed: number,
  faultyShare: number,
  energyForm: EnergyForm = 'interval',
): SimulatedVehicle[] {
  return Array.from({ length: size }, (_, index) => new SimulatedVehicle(index, seed, faultyShare, energyForm));
}
