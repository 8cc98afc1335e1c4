import { randomBytes } from 'node:crypto';

import ocppRpc from 'ocpp-rpc';

import type { MeterPayload } from './fleet-model.js';
import { forEachConcurrent, type JsonClient } from './http-client.js';
import {
  dialectFor,
  type OcppClient,
  type RegisterSample,
  type SimProtocol,
  type StationDialect,
} from './ocpp-dialects.js';

export { SIM_CONNECTOR, SIM_PROTOCOLS, type SimProtocol } from './ocpp-dialects.js';

const { RPCClient } = ocppRpc;

/** One minute of a simulated station: its meter's reading and whether the vehicle is plugged in after it. */
export interface OcppMinute {
  meter: MeterPayload;
  plugged: boolean;
}

export interface OcppSinkOptions {
  /** The service's base URL (http://…): the endpoint is its `/ocpp` on the same port. */
  url: string;
  /** Meter values per MeterValues call at most (1 live, as a station samples; more in a backfill). */
  valuesPerCall: number;
  /** The version the stations speak (default ocpp1.6). */
  protocol?: SimProtocol;
}

/**
 * The model's register in Wh as OCPP's decimal string. The model keeps whole micro-kWh
 * (= milli-Wh), so three decimals of Wh are exact and the service's kWh are the model's.
 */
export function registerWh(meter: MeterPayload): { exact: string; whole: number } {
  const milliWh = Math.round((meter.kwhConsumedAcTotal ?? 0) * 1_000_000);
  const whole = Math.floor(milliWh / 1000);
  return { exact: `${whole}.${String(milliWh % 1000).padStart(3, '0')}`, whole };
}

/** The vehicle's id token (OCPP idTag, at most 20 characters): its id itself. */
export const idTagOf = (vehicleId: string) => vehicleId;

/**
 * One simulated charging station per vehicle/meter pair, as the fleet model pairs them: the
 * station's connector 1 is the model's meter, its sessions the model's charging sessions, its
 * id token the vehicle's. Each station's calls go out one after another (a station waits for
 * each answer, as real ones do), stations in parallel.
 */
class SimulatedStation {
  private chain: Promise<void> = Promise.resolve();
  /** A call failed (the connection is gone, or the service refused one): the rest are not sent. */
  private broken = false;
  private plugged = false;
  private first = true;
  private pending: RegisterSample[] = [];

  constructor(
    readonly id: string,
    readonly vehicleId: string,
    readonly client: OcppClient,
    private readonly dialect: StationDialect,
    private readonly valuesPerCall: number,
    private readonly report: (outcome: 'confirmed' | 'failed', values: number) => void,
  ) {}

  /**
   * Queues one minute's calls. The register reading at a session's start and stop goes as
   * meter values before the transaction's start and stop: its exact value is stored first, and
   * the start's or stop's register at the same timestamp (1.6's whole-Wh `meterStart` /
   * `meterStop`, 2.0.1's Transaction.Begin / End) is then a duplicate, so the vehicle is
   * attributed exactly the model's energy of the session's minutes.
   */
  minute({ meter, plugged }: OcppMinute): Promise<void> {
    const { exact, whole } = registerWh(meter);
    const sample = { timestamp: meter.timestamp, exactWh: exact, wholeWh: whole, voltage: meter.voltage };
    this.pending.push(sample);
    const starts = plugged && !this.plugged;
    const stops = !plugged && this.plugged;
    this.plugged = plugged;
    const idToken = idTagOf(this.vehicleId);
    // The connector's first status, at the first minute's time: the service keeps the newest
    // status by timestamp, so one sent now would hide a backfill's later ones.
    if (this.first && !starts) this.enqueue(() => this.dialect.status('Available', meter.timestamp));
    this.first = false;
    if (starts || stops || this.pending.length >= this.valuesPerCall) this.flushValues();
    if (starts) this.enqueue(() => this.dialect.start(sample, idToken));
    if (stops) this.enqueue(() => this.dialect.stop(sample, idToken));
    return this.chain;
  }

  /** Sends what is queued; resolves once every call so far was answered. */
  flush(): Promise<void> {
    this.flushValues();
    return this.chain;
  }

  private flushValues(): void {
    if (this.pending.length === 0) return;
    const samples = this.pending;
    this.pending = [];
    this.enqueue(async () => {
      await this.dialect.values(samples);
      this.report('confirmed', samples.length);
    }, samples.length);
  }

  /** Runs `task` after the station's earlier calls; a failure counts its meter values as failed. */
  private enqueue(task: () => Promise<void>, values = 0): void {
    this.chain = this.chain.then(async () => {
      if (!this.broken) {
        try {
          await task();
          return;
        } catch {
          this.broken = true;
        }
      }
      this.report('failed', values);
    });
  }
}

/**
 * The simulator's OCPP sink: meter readings as charging stations send them (ocpp-rpc's client,
 * strict mode, OCPP 1.6J or 2.0.1), assignments from their transactions. Vehicle readings still
 * go over HTTP.
 */
export class OcppSink {
  private readonly stations = new Map<string, SimulatedStation>();
  /**
   * Told of every MeterValues call answered (its meter values, each a register reading) or
   * failed (its meter values, and those of every later call of that station, not sent).
   */
  onOutcome: (outcome: 'confirmed' | 'failed', values: number) => void = () => {};

  constructor(private readonly options: OcppSinkOptions) {}

  /**
   * Sets each station's password and maps each vehicle's id token through the admin API, then
   * connects and boots every station.
   */
  async connect(pairs: { vehicleId: string; meterId: string }[], api: JsonClient, concurrency: number): Promise<void> {
    const expect = (what: string, res: { status: number; body: unknown }) => {
      if (res.status !== 200) throw new Error(`${what} failed: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    };
    const protocol = this.options.protocol ?? 'ocpp1.6';
    await forEachConcurrent(pairs, concurrency, async ({ vehicleId, meterId }) => {
      // A fresh password each run: the simulator is the only one who needs to know it.
      const password = randomBytes(12).toString('hex');
      expect(`registering station ${meterId}`, await api.send('PUT', `/v1/charge-points/${meterId}`, { password }));
      const tag = encodeURIComponent(idTagOf(vehicleId));
      expect(`mapping id token ${tag}`, await api.send('PUT', `/v1/id-tokens/${tag}`, { vehicleId }));
      const client = new RPCClient({
        endpoint: `${this.options.url.replace(/^http/, 'ws').replace(/\/$/, '')}/ocpp`,
        identity: meterId,
        password,
        protocols: [protocol],
        strictMode: true,
        // A lost connection ends the run with an error rather than hiding a gap.
        reconnect: false,
      } as ConstructorParameters<typeof RPCClient>[0]);
      await client.connect();
      const dialect = dialectFor(protocol, client);
      await dialect.boot();
      this.stations.set(
        meterId,
        new SimulatedStation(meterId, vehicleId, client, dialect, this.options.valuesPerCall, (outcome, values) =>
          this.onOutcome(outcome, values),
        ),
      );
    });
  }

  /** Queues each station's minute (in order per station) and resolves once they were answered or failed. */
  async put(minutes: OcppMinute[]): Promise<void> {
    const waits = new Set<Promise<void>>();
    for (const minute of minutes) {
      const station = this.stations.get(minute.meter.meterId);
      if (!station) throw new Error(`no station for meter ${minute.meter.meterId}`);
      waits.add(station.minute(minute));
    }
    await Promise.all(waits);
  }

  /** Sends every station's queued meter values (a backfill's last ones) and waits for the answers. */
  async flush(): Promise<void> {
    await Promise.all([...this.stations.values()].map((station) => station.flush()));
  }

  /** Closes every connection (what was not flushed is not sent). */
  async disconnect(): Promise<void> {
    await Promise.all([...this.stations.values()].map((station) => station.client.close({ force: true })));
    this.stations.clear();
  }
}
