// Password hashing with scrypt (memory-hard, RFC 7914), run natively by workerd's node:crypto.
//
// Parameters: N=2^15, r=8, p=3 — one of OWASP's equivalent scrypt settings (Password
// Storage Cheat Sheet). It needs 32 MiB per hash (128·N·r bytes), which fits a Worker's
// 128 MB isolate; OWASP's N=2^17 variant would need 128 MiB and cannot run in production.
// The parameters are stored with each hash so they can be raised later without a reset.

import { scrypt, timingSafeEqual, randomBytes } from "node:crypto";

export interface PasswordHash {
  readonly scheme: "scrypt";
  readonly n: number;
  readonly r: number;
  readonly p: number;
  readonly salt: string;
  readonly hash: string;
}

const PARAMS = { n: 2 ** 15, r: 8, p: 3 } as const;
const KEY_LENGTH = 32;

const derive = (password: string, salt: Buffer, n: number, r: number, p: number) =>
  new Promise<Buffer>((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, KEY_LENGTH, { N: n, r, p, maxmem: 256 * n * r }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );

export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS.n, PARAMS.r, PARAMS.p);
  return { scheme: "scrypt", ...PARAMS, salt: salt.toString("base64"), hash: key.toString("base64") };
}

export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const key = await derive(password, Buffer.from(stored.salt, "base64"), stored.n, stored.r, stored.p);
  const expected = Buffer.from(stored.hash, "base64");
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * A fixed hash to verify against when the email is unknown, so that a sign-in for a
 * missing account costs the same scrypt work as one for a real account.
 */
let decoy: Promise<PasswordHash> | undefined;
export const decoyHash = () => (decoy ??= hashPassword(randomBytes(24).toString("base64")));
