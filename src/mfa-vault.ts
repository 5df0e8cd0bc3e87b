// TOTP seeds at rest: AES-256-GCM under a key the account's database does not hold. The key
// is derived (HKDF-SHA-256, RFC 5869, its own `info` label) from the server's page-ticket
// secret in SigningKeysObject, so an export or a copy of an account's SQLite alone does not
// reveal any seed. The account id is the GCM associated data: a sealed seed copied into
// another account does not open there. The ticket secret is never rotated (INSERT OR
// IGNORE); rotating it would require re-sealing every seed, so it must stay that way.

import type { Env } from "./env.ts";
import { loadKeys } from "./keys.ts";

const INFO = new TextEncoder().encode("warden/totp-seed/v1");
const PREFIX = "v1.";

let cached: { source: Uint8Array; key: Promise<CryptoKey> } | undefined;

async function seedKey(env: Env): Promise<CryptoKey> {
  const { ticketKey } = await loadKeys(env);
  if (cached?.source !== ticketKey) {
    const key = crypto.subtle
      .importKey("raw", ticketKey as Uint8Array<ArrayBuffer>, "HKDF", false, ["deriveKey"])
      .then((base) =>
        crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: INFO }, base, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]),
      );
    cached = { source: ticketKey, key };
  }
  return cached.key;
}

const toBase64Url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const fromBase64Url = (text: string) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

export async function sealSeed(env: Env, accountId: string, seed: Uint8Array): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const additionalData = new TextEncoder().encode(accountId);
  const body = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData }, await seedKey(env), seed as Uint8Array<ArrayBuffer>));
  const out = new Uint8Array(iv.length + body.length);
  out.set(iv);
  out.set(body, iv.length);
  return PREFIX + toBase64Url(out);
}

/** The seed, or null when the box is not ours, not this account's, or altered. */
export async function openSeed(env: Env, accountId: string, sealed: string): Promise<Uint8Array | null> {
  if (!sealed.startsWith(PREFIX)) return null;
  try {
    const bytes = fromBase64Url(sealed.slice(PREFIX.length));
    const additionalData = new TextEncoder().encode(accountId);
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.subarray(0, 12), additionalData }, await seedKey(env), bytes.subarray(12));
    return new Uint8Array(plain);
  } catch {
    return null;
  }
}
