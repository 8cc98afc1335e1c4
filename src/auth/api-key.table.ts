import type { Generated } from 'kysely';

export type Scope = 'ingest' | 'read' | 'admin';
export const SCOPES: readonly Scope[] = ['ingest', 'read', 'admin'];

export interface ApiKeyTable {
  id: string;
  name: string;
  scopes: Scope[];
  device_id: string | null;
  key_hash: string;
  created_at: Generated<Date>;
  revoked_at: Date | null;
}
