import type { Generated } from 'kysely';

export type Scope = 'ingest' | 'read' | 'admin';
export const SCOPES: readonly Scope[] = ['ingest', 'read', 'admin'];

/** The kinds of device a key can be bound to: the ingestion route each one posts to. */
export type DeviceKind = 'meter' | 'vehicle';
export const DEVICE_KINDS: readonly DeviceKind[] = ['meter', 'vehicle'];

export interface ApiKeyTable {
  id: string;
  name: string;
  scopes: Scope[];
  device_id: string | null;
  /** Set with device_id; null only for a key bound before kinds were recorded whose kind was ambiguous. */
  device_kind: DeviceKind | null;
  key_hash: string;
  created_at: Generated<Date>;
  revoked_at: Date | null;
}
