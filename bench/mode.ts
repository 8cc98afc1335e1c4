/** How big and how long a benchmark run is; decided once from the command line. */
export type BenchModeName = 'full' | 'quick' | 'smoke';

export interface BenchMode {
  readonly name: BenchModeName;
  /** Vehicles (and as many meters) in the analytics dataset, and the smoke run's only fleet size. */
  readonly vehicles: number;
  /** How many of those vehicles get seven days of history instead of one (the 7-day window). */
  readonly longHistoryVehicles: number;
  /** LOG_LEVEL of the services under test. */
  readonly serviceLogLevel: string;
}

export interface BenchModeOptions {
  quick: boolean;
  smoke: boolean;
  vehicles?: string;
  /**
   * The services under test log warnings only by default, so the figures are the engine's;
   * BENCH_LOG_LEVEL=info measures them with a log line per request.
   */
  logLevel?: string;
}

export function benchMode(options: BenchModeOptions): BenchMode {
  const name: BenchModeName = options.smoke ? 'smoke' : options.quick ? 'quick' : 'full';
  return {
    name,
    vehicles: Number(options.vehicles ?? (name === 'smoke' ? 20 : 1000)),
    longHistoryVehicles: name === 'smoke' ? 5 : 50,
    serviceLogLevel: options.logLevel ?? 'warn',
  };
}

/** A setting that depends on the mode; a smoke run takes the quick value unless given its own. */
export function byMode<T>(mode: BenchMode, values: { full: T; quick: T; smoke?: T }): T {
  if (mode.name === 'smoke') return values.smoke ?? values.quick;
  return mode.name === 'quick' ? values.quick : values.full;
}

/** A measurement phase's length in ms from its seconds in a full and a quick run; one second when smoke. */
export const phaseMs = (mode: BenchMode, fullSeconds: number, quickSeconds: number) =>
  byMode(mode, { full: fullSeconds, quick: quickSeconds, smoke: 1 }) * 1000;
