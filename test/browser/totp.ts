// The authenticator app's side of TOTP, written here from the RFCs with node:crypto and
// independent of src/totp.ts: a test that used the server's own code to make codes could not
// catch a server that computes them wrongly.
//
// RFC 4648 §6 base32 → key; RFC 6238 §4.2 T = floor(unix / 30); RFC 4226 §5.3 HOTP with
// HMAC-SHA-1 and dynamic truncation, 6 digits by default.

import { createHmac } from "node:crypto";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 §6, as authenticator apps read a typed-in key: case, spaces, dashes and padding ignored. */
export function decodeBase32(text: string): Buffer {
  const clean = text.replace(/[\s=-]/g, "").toUpperCase();
  const bytes: number[] = [];
  let value = 0;
  let bits = 0;
  for (const char of clean) {
    const index = BASE32.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${JSON.stringify(char)}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    value &= (1 << bits) - 1;
  }
  return Buffer.from(bytes);
}

/** RFC 4226 §5.3: HOTP(K, C) = Truncate(HMAC-SHA-1(K, C)) mod 10^digits. */
export function hotp(key: Buffer, counter: number, digits = 6): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac("sha1", key).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return String(binary).padStart(digits, "0");
}

/** RFC 6238 §4.2 time step: T = floor((unix time - T0) / X), T0 = 0, X = 30 s. */
export const currentStep = (atMs = Date.now()) => Math.floor(atMs / 30_000);

/** RFC 6238 §4.2 with T0 = 0 and X = 30 s. */
export const totp = (key: Buffer, atMs = Date.now(), digits = 6) => hotp(key, currentStep(atMs), digits);

/**
 * A code that stays valid long enough to be typed: when the current 30-second step ends within
 * `marginMs`, wait for the next step first (bounded: at most one step).
 */
export async function freshTotp(key: Buffer, marginMs = 4_000): Promise<{ code: string; step: number }> {
  const left = 30_000 - (Date.now() % 30_000);
  if (left < marginMs) await new Promise((r) => setTimeout(r, left + 50));
  const now = Date.now();
  return { code: totp(key, now), step: currentStep(now) };
}

/**
 * A code from a later step than `usedStep`: the server refuses a second use of one step
 * (RFC 6238 §5.2), so a sign-in right after enrollment waits (at most one step) for the next.
 */
export async function totpAfter(key: Buffer, usedStep: number): Promise<{ code: string; step: number }> {
  const deadline = Date.now() + 31_000;
  while (currentStep() <= usedStep) {
    if (Date.now() > deadline) throw new Error("the clock did not reach the next TOTP step");
    await new Promise((r) => setTimeout(r, 250));
  }
  const now = Date.now();
  return { code: totp(key, now), step: currentStep(now) };
}
