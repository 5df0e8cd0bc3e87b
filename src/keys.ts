// Access tokens (JWT, RFC 9068) and page tickets, signed with keys from SigningKeysObject.
// Verification pins everything it can (RFC 8725 §3.1–3.12): algorithm, issuer, audience,
// `typ`, expiry, and the key id; it never trusts a key or URL carried in the token header.

import { decodeProtectedHeader, importJWK, jwtVerify, SignJWT, errors as joseErrors, type JWTPayload } from "jose";
import type { Env } from "./env.ts";
import type { KeySet } from "./objects/signing-keys-object.ts";

/** Short: every MCP request also asks the account object whether the session is live. */
export const ACCESS_TOKEN_TTL_S = 10 * 60;
/** Time for a person to read a page and submit it (sign-in → consent). */
export const TICKET_TTL_S = 15 * 60;
const CLOCK_TOLERANCE_S = 5;

interface Loaded {
  readonly set: KeySet;
  readonly privateKey: CryptoKey;
  readonly publicKeys: ReadonlyMap<string, CryptoKey>;
  readonly ticketKey: Uint8Array;
  readonly loadedAt: number;
}

/**
 * How long an isolate trusts its copy of the key set. A rotation reaches every isolate
 * within this time; the retired key keeps verifying for OVERLAP_MS (> this + token life).
 */
const KEY_CACHE_MS = 5 * 60 * 1000;
/** An unknown kid may mean a rotation this isolate has not seen: refetch, at most this often. */
const UNKNOWN_KID_REFETCH_MS = 30 * 1000;

let cached: Promise<Loaded> | undefined;
let lastUnknownKidFetch = 0;

async function fetchKeys(env: Env): Promise<Loaded> {
  const set = await env.KEYS.get(env.KEYS.idFromName("signing-keys")).keySet();
  const publicKeys = new Map<string, CryptoKey>();
  for (const entry of set.verifying) publicKeys.set(entry.kid, (await importJWK(entry.publicJwk, "ES256")) as CryptoKey);
  return {
    set,
    privateKey: (await importJWK(set.signing.privateJwk, "ES256")) as CryptoKey,
    publicKeys,
    ticketKey: Uint8Array.from(atob(set.ticketSecret.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0)),
    loadedAt: Date.now(),
  };
}

/** The cached key set, refetched after KEY_CACHE_MS (or when `force`); failures are not cached. */
export async function loadKeys(env: Env, force = false): Promise<Loaded> {
  const current = cached ? await cached.catch(() => undefined) : undefined;
  if (!force && current && Date.now() - current.loadedAt < KEY_CACHE_MS) return current;
  const next = fetchKeys(env);
  cached = next;
  return next.catch((error) => {
    if (cached === next) cached = undefined;
    throw error;
  });
}

/** Forget this isolate's cached keys (after an on-demand rotation, and in tests). */
export const forgetKeys = () => {
  cached = undefined;
};

export async function jwks(env: Env) {
  const { set } = await loadKeys(env);
  return { keys: set.verifying.map((k) => k.publicJwk) };
}

export interface AccessClaims {
  readonly sub: string;
  readonly sid: string;
  readonly client_id: string;
  readonly scope: string;
  /** RFC 9068 §2.2.1: how the person signed in (RFC 8176 values) and the assurance that amounts to. */
  readonly amr?: ReadonlyArray<string>;
  readonly acr?: string;
}

/** NIST SP 800-63B levels: AAL1 is one factor (a password); AAL2 adds a second (TOTP). */
export const ACR_PASSWORD = "urn:warden:aal1";
export const ACR_MFA = "urn:warden:aal2";

/** amr and acr for a session's sign-in methods; none for a session no person signed in to. */
export const assuranceClaims = (amr: ReadonlyArray<string>): Pick<AccessClaims, "amr" | "acr"> =>
  amr.length === 0 ? {} : { amr: [...amr], acr: amr.includes("otp") ? ACR_MFA : ACR_PASSWORD };

export async function signAccessToken(env: Env, issuer: string, audience: string, claims: AccessClaims) {
  const { set, privateKey } = await loadKeys(env);
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: set.signing.kid })
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(`${ACCESS_TOKEN_TTL_S}s`)
    .setJti(crypto.randomUUID())
    .sign(privateKey);
}

export type VerifiedAccess = AccessClaims & JWTPayload;

/** null for any token that is not one we issued for this audience and still valid. */
export async function verifyAccessToken(
  env: Env,
  token: string,
  issuer: string,
  audience: string,
  options: { allowExpired?: boolean } = {},
): Promise<VerifiedAccess | null> {
  const publicKey = await verificationKey(env, token);
  if (!publicKey) return null;
  try {
    const { payload } = await jwtVerify(token, publicKey, {
      algorithms: ["ES256"],
      typ: "at+jwt",
      issuer,
      audience,
      clockTolerance: CLOCK_TOLERANCE_S,
      // Revocation (RFC 7009) accepts our expired tokens: the session may outlive them.
      ...(options.allowExpired ? { currentDate: new Date(0) } : {}),
      requiredClaims: ["exp", "iat", "sub", "jti"],
    });
    const { sub, sid, client_id, scope } = payload as Record<string, unknown>;
    if (typeof sub !== "string" || typeof sid !== "string" || typeof client_id !== "string" || typeof scope !== "string") return null;
    return payload as VerifiedAccess;
  } catch (error) {
    if (error instanceof joseErrors.JOSEError || error instanceof TypeError) return null;
    throw error;
  }
}

/**
 * The key a token names by `kid`, among the keys this server verifies with (current and
 * retired-in-overlap). Never a key carried in the token (jwk/jku/x5u are ignored); an
 * unknown kid triggers one rate-limited refetch, in case a rotation happened elsewhere.
 */
async function verificationKey(env: Env, token: string): Promise<CryptoKey | null> {
  let kid: unknown;
  try {
    kid = decodeProtectedHeader(token).kid;
  } catch {
    return null;
  }
  if (typeof kid !== "string" || kid.length > 128) return null;
  const known = (await loadKeys(env)).publicKeys.get(kid);
  if (known) return known;
  if (Date.now() - lastUnknownKidFetch < UNKNOWN_KID_REFETCH_MS) return null;
  lastUnknownKidFetch = Date.now();
  return (await loadKeys(env, true)).publicKeys.get(kid) ?? null;
}

/**
 * A signed, expiring ticket carried in a hidden form field between pages (HS256), or in the
 * browser-session cookie (with its own lifetime). `typ` names the purpose, so a ticket of one
 * kind is never accepted as another (RFC 8725 §3.11).
 */
export async function signTicket(env: Env, purpose: string, payload: Record<string, unknown>, ttlSeconds = TICKET_TTL_S): Promise<string> {
  const { ticketKey } = await loadKeys(env);
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "HS256", typ: `warden-${purpose}` })
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    // A caller that must know the id beforehand (the consent page's CSRF token) passes its own.
    .setJti(typeof payload.jti === "string" ? payload.jti : crypto.randomUUID())
    .sign(ticketKey);
}

export async function verifyTicket(env: Env, purpose: string, ticket: string): Promise<Record<string, unknown> | null> {
  const { ticketKey } = await loadKeys(env);
  try {
    const { payload } = await jwtVerify(ticket, ticketKey, { algorithms: ["HS256"], typ: `warden-${purpose}` });
    return payload as Record<string, unknown>;
  } catch (error) {
    if (error instanceof joseErrors.JOSEError || error instanceof TypeError) return null;
    throw error;
  }
}

/**
 * HMAC-SHA256 (base64url) of `message` under the ticket key, for values that bind two things
 * together without a JWT (the consent form's CSRF token). Callers prefix the message with a
 * purpose containing a NUL byte, which no JWS signing input (base64url and dots) can contain,
 * so a MAC is never a valid ticket signature and the reverse.
 */
export async function ticketMac(env: Env, message: string): Promise<string> {
  const { ticketKey } = await loadKeys(env);
  const key = await crypto.subtle.importKey("raw", ticketKey, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message)));
  return btoa(String.fromCharCode(...mac)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
