import type { Kysely } from 'kysely';

import type { MeterAggregateView, VehicleAggregateView } from '../aggregates/aggregate.table.js';
import type { AlertEvaluationTable, AlertRuleTable, AlertTable } from '../alerts/alert-rule.table.js';
import type { ArchiveManifestTable, ArchiveSettingsTable } from '../archive/archive.table.js';
import type { ApiKeyTable } from '../auth/api-key.table.js';
import type {
  VehicleMeterAssignmentAuditTable,
  VehicleMeterAssignmentTable,
  VehicleMeterMappingView,
} from '../mapping/mapping.table.js';
import type {
  ChargePointConnectorTable,
  ChargePointTable,
  ChargePointTransactionTable,
  IdTokenTable,
  UnknownIdTokenTable,
} from '../ocpp/charge-point.table.js';
import type { StreamDeadLetterTable, StreamShardLeaseTable } from '../streams/stream.table.js';
import type { MeterLiveTable, MeterTelemetryHistoryTable } from '../telemetry/meter.table.js';
import type { VehicleLiveTable, VehicleTelemetryHistoryTable } from '../telemetry/vehicle.table.js';
import type { WebhookEventTable } from '../webhooks/webhook-event.table.js';
import type { WebhookDeliveryTable, WebhookTable } from '../webhooks/webhook.table.js';

/** Every table and view the service queries, as Kysely sees them. */
export interface Database {
  api_keys: ApiKeyTable;
  charge_points: ChargePointTable;
  charge_point_connectors: ChargePointConnectorTable;
  charge_point_transactions: ChargePointTransactionTable;
  id_tokens: IdTokenTable;
  unknown_id_tokens: UnknownIdTokenTable;
  archive_settings: ArchiveSettingsTable;
  archive_manifest: ArchiveManifestTable;
  vehicle_meter_assignment: VehicleMeterAssignmentTable;
  vehicle_meter_assignment_audit: VehicleMeterAssignmentAuditTable;
  vehicle_meter_mapping: VehicleMeterMappingView;
  meter_telemetry_history: MeterTelemetryHistoryTable;
  vehicle_telemetry_history: VehicleTelemetryHistoryTable;
  meter_live: MeterLiveTable;
  vehicle_live: VehicleLiveTable;
  meter_telemetry_hourly: MeterAggregateView;
  vehicle_telemetry_hourly: VehicleAggregateView;
  meter_telemetry_15m: MeterAggregateView;
  vehicle_telemetry_15m: VehicleAggregateView;
  stream_shard_lease: StreamShardLeaseTable;
  stream_dead_letter: StreamDeadLetterTable;
  webhook_events: WebhookEventTable;
  alert_rules: AlertRuleTable;
  alerts: AlertTable;
  alert_evaluations: AlertEvaluationTable;
  webhooks: WebhookTable;
  webhook_deliveries: WebhookDeliveryTable;
}

export type Db = Kysely<Database>;
