import type { Db } from '../db/database.js';
import type { DeviceKind, Scope } from './api-key.table.js';

export interface StoredKey {
  id: string;
  name: string;
  scopes: Scope[];
  deviceId: string | null;
  deviceKind: DeviceKind | null;
  createdAt: Date;
}

const columns = ['id', 'name', 'scopes', 'device_id', 'device_kind', 'created_at'] as const;

function toStoredKey(row: {
  id: string;
  name: string;
  scopes: Scope[];
  device_id: string | null;
  device_kind: DeviceKind | null;
  created_at: Date;
}): StoredKey {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes,
    deviceId: row.device_id,
    deviceKind: row.device_kind,
    createdAt: row.created_at,
  };
}

export async function findActiveKeyByHash(db: Db, keyHash: string): Promise<StoredKey | undefined> {
  const row = await db
    .selectFrom('api_keys')
    .select(columns)
    .where('key_hash', '=', keyHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row && toStoredKey(row);
}

export async function insertKey(
  db: Db,
  key: {
    id: string;
    name: string;
    scopes: Scope[];
    deviceId: string | null;
    deviceKind: DeviceKind | null;
    keyHash: string;
  },
): Promise<StoredKey> {
  const row = await db
    .insertInto('api_keys')
    .values({
      id: key.id,
      name: key.name,
      scopes: key.scopes,
      device_id: key.deviceId,
      device_kind: key.deviceKind,
      key_hash: key.keyHash,
    })
    .returning(columns)
    .executeTakeFirstOrThrow();
  return toStoredKey(row);
}

export async function listActiveKeys(db: Db): Promise<StoredKey[]> {
  const rows = await db
    .selectFrom('api_keys')
    .select(columns)
    .where('revoked_at', 'is', null)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toStoredKey);
}

/** Marks the key revoked; false when there is no active key with this id. */
export async function revokeKey(db: Db, id: string): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: new Date() })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
