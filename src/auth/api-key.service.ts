import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

import type { Db } from '../db/database.js';
import { findActiveKeyByHash, insertKey, listActiveKeys, revokeKey, type StoredKey } from './api-key.repository.js';
import { SCOPES, type DeviceKind, type Scope } from './api-key.table.js';

/** Who is calling: resolved from the presented key on every /v1 request. */
export interface Principal {
  keyId: string;
  name: string;
  scopes: ReadonlySet<Scope>;
  /** A device-bound key may only ingest readings of this device: this kind, this id. */
  deviceId: string | null;
  /** Null with a deviceId: bound before kinds were recorded, kind unknown (ingests nothing). */
  deviceKind: DeviceKind | null;
  /** The operator's key from the environment: not rate limited. */
  isEnvAdmin: boolean;
}

/**
 * How long a key lookup (found or not) is reused. Revocation must take effect within 5 s
 * on every instance, so this stays well below that.
 */
const CACHE_TTL_MS = 2_000;
const CACHE_MAX_ENTRIES = 10_000;

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

export function generateKey(): string {
  return `evt_${randomBytes(32).toString('base64url')}`;
}

export class ApiKeyService {
  private readonly cache = new Map<string, { principal: Principal | undefined; expires: number }>();
  private readonly adminHash: Buffer;

  constructor(
    private readonly db: Db,
    adminKey: string,
  ) {
    this.adminHash = Buffer.from(hashKey(adminKey), 'hex');
  }

  /** The principal behind a presented key, or undefined for an unknown or revoked key. */
  async authenticate(presented: string): Promise<Principal | undefined> {
    const hash = hashKey(presented);
    if (timingSafeEqual(Buffer.from(hash, 'hex'), this.adminHash)) {
      return {
        keyId: 'env-admin',
        name: 'ADMIN_API_KEY',
        scopes: new Set(SCOPES),
        deviceId: null,
        deviceKind: null,
        isEnvAdmin: true,
      };
    }
    const now = Date.now();
    const cached = this.cache.get(hash);
    if (cached && cached.expires > now) return cached.principal;
    const stored = await findActiveKeyByHash(this.db, hash);
    const principal = stored && toPrincipal(stored);
    if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.clear();
    this.cache.set(hash, { principal, expires: now + CACHE_TTL_MS });
    return principal;
  }

  /** Creates a key; the plaintext is returned this once and never stored. */
  async create(input: {
    name: string;
    scopes: Scope[];
    deviceId: string | null;
    deviceKind: DeviceKind | null;
  }): Promise<StoredKey & { key: string }> {
    const key = generateKey();
    const stored = await insertKey(this.db, { id: randomUUID(), ...input, keyHash: hashKey(key) });
    return { ...stored, key };
  }

  list(): Promise<StoredKey[]> {
    return listActiveKeys(this.db);
  }

  async revoke(id: string): Promise<boolean> {
    const revoked = await revokeKey(this.db, id);
    // This instance forgets it at once; others within CACHE_TTL_MS.
    if (revoked) this.cache.clear();
    return revoked;
  }
}

function toPrincipal(key: StoredKey): Principal {
  return {
    keyId: key.id,
    name: key.name,
    scopes: new Set(key.scopes),
    deviceId: key.deviceId,
    deviceKind: key.deviceKind,
    isEnvAdmin: false,
  };
}
