import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Station passwords (OCPP security profile 1/2) are kept as scrypt hashes: unlike API keys
 * (random, hashed with SHA-256), a password is chosen by a person and may be guessable, so
 * its hash must be slow to brute-force. The stored form names its parameters, so they can be
 * raised later without invalidating stored hashes: `scrypt$N$r$p$salt$hash` (base64).
 */
const PARAMS = { N: 16_384, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

function derive(password: Buffer, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LENGTH, { ...options, maxmem: 64 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(Buffer.from(password, 'utf8'), salt, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** A hash of nothing, checked against when the station is unknown: the answer takes as long. */
const UNKNOWN_STATION_HASH = `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${Buffer.alloc(16).toString('base64')}$`;

/** Whether `password` is the one `stored` hashes; an unknown station (`stored` undefined) never matches. */
export async function verifyPassword(password: Buffer | undefined, stored: string | undefined): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = (stored ?? UNKNOWN_STATION_HASH).split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || salt === undefined || hash === undefined) return false;
  const key = await derive(password ?? Buffer.alloc(0), Buffer.from(salt, 'base64'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  const expected = Buffer.from(hash, 'base64');
  return (
    stored !== undefined && password !== undefined && expected.length === key.length && timingSafeEqual(expected, key)
  );
}
