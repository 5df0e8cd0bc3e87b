// Time-based one-time passwords (RFC 6238) over HOTP (RFC 4226), with WebCrypto.
//
// Parameters are the ones every authenticator app uses by default (RFC 6238 §4, §5.2 and
// Google Authenticator's Key Uri Format): HMAC-SHA-1, 6 digits, 30-second steps from the Unix
// epoch. A code is accepted for the current step and one step either side (RFC 6238 §5.2
// "at most one time step ... backward" plus one forward for a fast phone clock): a 90-second
// window in all. Replay (RFC 6238 §5.2: "the verifier MUST NOT accept the second attempt of
// the same OTP") is refused by the caller, which stores the last accepted step per account.
// Pure apart from WebCrypto: no clock (time is a parameter), no storage.

export const TOTP_PERIOD_S = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted either side of the current one (RFC 6238 §5.2 network delay / clock drift). */
export const TOTP_WINDOW = 1;
/** RFC 4226 §4 R6: shared secrets of at least 128 bits, 160 recommended (the SHA-1 block output). */
export const TOTP_SECRET_BYTES = 20;

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 §6 base32 without padding (what otpauth URIs and authenticator apps expect). */
export function base32Encode(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** Decodes base32 (case, spaces and padding ignored); null for any other character. */
export function base32Decode(text: string): Uint8Array | null {
  const clean = text.replace(/[\s=]/g, "").toUpperCase();
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of clean) {
    const value = BASE32.indexOf(char);
    if (value < 0) return null;
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 255);
      bits -= 8;
    }
    buffer &= (1 << bits) - 1;
  }
  return Uint8Array.from(out);
}

/** The RFC 6238 §4.2 time step T = floor((now - T0) / X), T0 = 0. */
export const timeStep = (atMs: number, periodS = TOTP_PERIOD_S) => Math.floor(atMs / 1000 / periodS);

const hmacKey = (secret: Uint8Array) =>
  crypto.subtle.importKey("raw", secret as Uint8Array<ArrayBuffer>, { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);

/** RFC 4226 §5.3: HMAC-SHA-1 over the 8-byte big-endian counter, then dynamic truncation. */
async function hotpWith(key: CryptoKey, counter: number, digits: number): Promise<string> {
  const message = new Uint8Array(8);
  const view = new DataView(message.buffer);
  view.setUint32(0, Math.floor(counter / 2 ** 32));
  view.setUint32(4, counter >>> 0);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, message));
  // Dynamic truncation: the low 4 bits of the last byte pick 4 bytes; drop the sign bit.
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary =
    ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(binary % 10 ** digits).padStart(digits, "0");
}

export async function hotp(secret: Uint8Array, counter: number, digits = TOTP_DIGITS): Promise<string> {
  return hotpWith(await hmacKey(secret), counter, digits);
}

/** The code for the step containing `atMs` (RFC 6238 §4.2: TOTP = HOTP(K, T)). */
export async function totp(secret: Uint8Array, atMs: number, digits = TOTP_DIGITS): Promise<string> {
  return hotp(secret, timeStep(atMs), digits);
}

/** Compares two digit strings without an early exit on the first difference. */
const sameCode = (a: string, b: string) => {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
};

/** Whether `code` has the shape of a TOTP code (so junk is refused before any HMAC). */
export const isTotpCode = (code: string) => new RegExp(`^[0-9]{${TOTP_DIGITS}}$`).test(code);

/**
 * The time step within ±TOTP_WINDOW of `atMs` whose code equals `code`, or null. Every
 * candidate is computed and compared (no early exit), so timing does not say which matched.
 * The caller refuses a step at or below the last one it accepted (replay, RFC 6238 §5.2).
 */
export async function matchingStep(secret: Uint8Array, code: string, atMs: number): Promise<number | null> {
  const normalized = code.replace(/\s/g, "");
  if (!isTotpCode(normalized)) return null;
  const key = await hmacKey(secret);
  const now = timeStep(atMs);
  let found: number | null = null;
  for (let step = now - TOTP_WINDOW; step <= now + TOTP_WINDOW; step++) {
    if (sameCode(await hotpWith(key, step, TOTP_DIGITS), normalized) && found === null) found = step;
  }
  return found;
}

/**
 * The provisioning URI authenticator apps read (Google Authenticator "Key Uri Format", the de
 * facto standard): otpauth://totp/Issuer:account?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30.
 */
export function otpauthUri(input: { issuer: string; account: string; secret: string }): string {
  const label = `${encodeURIComponent(input.issuer)}:${encodeURIComponent(input.account)}`;
  const params = new URLSearchParams({
    secret: input.secret,
    issuer: input.issuer,
    algorithm: "SHA1",
    digits: String(TOTP_DIGITS),
    period: String(TOTP_PERIOD_S),
  });
  return `otpauth://totp/${label}?${params.toString()}`;
}

/** A fresh shared secret: 160 random bits (RFC 4226 §4 R6). */
export const newTotpSecret = () => crypto.getRandomValues(new Uint8Array(TOTP_SECRET_BYTES));
