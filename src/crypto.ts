// Small synchronous crypto helpers. node:crypto runs natively in workerd under
// nodejs_compat; synchronous hashing lets a Durable Object verify and rotate a token
// without an `await` between reading and writing (no interleaving, see AccountObject).

import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const sha256Hex = (text: string): string => createHash("sha256").update(text).digest("hex");

export const sha256Base64Url = (text: string): string =>
  createHash("sha256").update(text).digest("base64url");

/** 256 bits of randomness, base64url: unguessable identifiers, codes and tokens. */
export const randomToken = (bytes = 32): string => randomBytes(bytes).toString("base64url");

export const constantTimeEqual = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * AES-256-GCM under a key derived from `secret`: only a holder of `secret` can open it.
 * Used to keep a rotated refresh token's successor readable by the holder of the old token
 * only (the grace window), while the database keeps nothing but hashes and sealed boxes.
 */
export const seal = (plaintext: string, secret: string): string => {
  const key = createHash("sha256").update(`warden-seal:${secret}`).digest();
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
};

export const unseal = (sealed: string, secret: string): string | null => {
  try {
    const bytes = Buffer.from(sealed, "base64url");
    const key = createHash("sha256").update(`warden-seal:${secret}`).digest();
    const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString("utf8");
  } catch {
    return null;
  }
};
