import { randomBytes } from 'node:crypto';

import type ocppRpc from 'ocpp-rpc';

export type OcppClient = InstanceType<typeof ocppRpc.RPCClient>;
export type SimProtocol = 'ocpp1.6' | 'ocpp2.0.1';
export const SIM_PROTOCOLS: readonly SimProtocol[] = ['ocpp1.6', 'ocpp2.0.1'];

/** The one connector (1.6) or EVSE (2.0.1) of each simulated station: its meter is `{chargePointId}:1`. */
export const SIM_CONNECTOR = 1;

/** One minute's register (Wh, exact to the mWh, and whole) and voltage. */
export interface RegisterSample {
  timestamp: string;
  exactWh: string;
  wholeWh: number;
  voltage: number;
}

/**
 * What a simulated station says, in one version's messages. SimulatedStation (ocpp-sink.ts)
 * decides when (the same for both versions); a dialect only words it, and keeps the open
 * transaction's id.
 */
export interface StationDialect {
  boot(): Promise<void>;
  status(status: 'Available' | 'Charging', timestamp: string): Promise<void>;
  /** Meter values: inside a transaction as the version sends them there, else MeterValues. */
  values(samples: RegisterSample[]): Promise<void>;
  start(sample: RegisterSample, idToken: string): Promise<void>;
  stop(sample: RegisterSample, idToken: string): Promise<void>;
}

export function dialectFor(protocol: SimProtocol, client: OcppClient): StationDialect {
  return protocol === 'ocpp1.6' ? new Ocpp16Dialect(client) : new Ocpp201Dialect(client);
}

/** 1.6J: MeterValues (with the transactionId inside a session), Start/StopTransaction with whole Wh. */
class Ocpp16Dialect implements StationDialect {
  private transactionId: number | undefined;

  constructor(private readonly client: OcppClient) {}

  async boot(): Promise<void> {
    await this.client.call('BootNotification', { chargePointVendor: 'ev-telemetry', chargePointModel: 'simulator' });
  }

  async status(status: 'Available' | 'Charging', timestamp: string): Promise<void> {
    await this.client.call('StatusNotification', {
      connectorId: SIM_CONNECTOR,
      errorCode: 'NoError',
      status,
      timestamp,
    });
  }

  async values(samples: RegisterSample[]): Promise<void> {
    await this.client.call('MeterValues', {
      connectorId: SIM_CONNECTOR,
      ...(this.transactionId === undefined ? {} : { transactionId: this.transactionId }),
      meterValue: samples.map((s) => ({
        timestamp: s.timestamp,
        sampledValue: [
          { value: s.exactWh, measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
          { value: s.voltage.toFixed(2), measurand: 'Voltage', unit: 'V' },
        ],
      })),
    });
  }

  async start(sample: RegisterSample, idToken: string): Promise<void> {
    await this.status('Charging', sample.timestamp);
    const answer = (await this.client.call('StartTransaction', {
      connectorId: SIM_CONNECTOR,
      idTag: idToken,
      meterStart: sample.wholeWh,
      timestamp: sample.timestamp,
    })) as { transactionId: number };
    this.transactionId = answer.transactionId;
  }

  async stop(sample: RegisterSample, idToken: string): Promise<void> {
    if (this.transactionId === undefined) return;
    await this.client.call('StopTransaction', {
      transactionId: this.transactionId,
      idTag: idToken,
      meterStop: sample.wholeWh,
      timestamp: sample.timestamp,
      reason: 'EVDisconnected',
    });
    this.transactionId = undefined;
    await this.status('Available', sample.timestamp);
  }
}

/**
 * 2.0.1: MeterValues outside a session; inside one, TransactionEvent Started / Updated /
 * Ended carrying the registers (`Transaction.Begin`, `Sample.Periodic`, `Transaction.End`).
 * A sampled value is a JSON number: the register to the mWh has at most 10 significant digits
 * here, well within a double's exact decimal digits.
 */
class Ocpp201Dialect implements StationDialect {
  private transaction: { id: string; seqNo: number } | undefined;
  /** Transaction ids are the station's own: unique per run, so a second run is not taken for a resend. */
  private readonly run = randomBytes(6).toString('hex');
  private count = 0;

  constructor(private readonly client: OcppClient) {}

  async boot(): Promise<void> {
    await this.client.call('BootNotification', {
      reason: 'PowerUp',
      chargingStation: { vendorName: 'ev-telemetry', model: 'simulator' },
    });
  }

  async status(status: 'Available' | 'Charging', timestamp: string): Promise<void> {
    await this.client.call('StatusNotification', {
      timestamp,
      // 2.0.1 has no Charging connector status: a plugged connector is Occupied.
      connectorStatus: status === 'Charging' ? 'Occupied' : 'Available',
      evseId: SIM_CONNECTOR,
      connectorId: 1,
    });
  }

  private meterValue(sample: RegisterSample, context: string) {
    return {
      timestamp: sample.timestamp,
      sampledValue: [
        {
          value: Number(sample.exactWh),
          context,
          measurand: 'Energy.Active.Import.Register',
          unitOfMeasure: { unit: 'Wh' },
        },
        { value: sample.voltage, context, measurand: 'Voltage', unitOfMeasure: { unit: 'V' } },
      ],
    };
  }

  private async event(
    eventType: 'Started' | 'Updated' | 'Ended',
    triggerReason: string,
    meterValue: object[],
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    const transaction = this.transaction!;
    const last = meterValue.at(-1) as { timestamp: string };
    await this.client.call('TransactionEvent', {
      eventType,
      timestamp: last.timestamp,
      triggerReason,
      seqNo: transaction.seqNo++,
      transactionInfo: {
        transactionId: transaction.id,
        ...(eventType === 'Ended' ? { stoppedReason: 'EVDisconnected' } : {}),
      },
      meterValue,
      ...extra,
    });
  }

  async values(samples: RegisterSample[]): Promise<void> {
    if (this.transaction) {
      await this.event(
        'Updated',
        'MeterValuePeriodic',
        samples.map((s) => this.meterValue(s, 'Sample.Periodic')),
      );
      return;
    }
    await this.client.call('MeterValues', {
      evseId: SIM_CONNECTOR,
      meterValue: samples.map((s) => this.meterValue(s, 'Sample.Periodic')),
    });
  }

  async start(sample: RegisterSample, idToken: string): Promise<void> {
    await this.status('Charging', sample.timestamp);
    this.count += 1;
    this.transaction = { id: `${this.run}-${this.count}`, seqNo: 0 };
    await this.event('Started', 'Authorized', [this.meterValue(sample, 'Transaction.Begin')], {
      evse: { id: SIM_CONNECTOR, connectorId: 1 },
      idToken: { idToken, type: 'Central' },
    });
  }

  async stop(sample: RegisterSample): Promise<void> {
    if (!this.transaction) return;
    await this.event('Ended', 'EVDeparted', [this.meterValue(sample, 'Transaction.End')]);
    this.transaction = undefined;
    await this.status('Available', sample.timestamp);
  }
}
