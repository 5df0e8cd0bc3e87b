// Access tokens (JWT, RFC 9068) and page tickets, signed with keys from SigningKeysObject.
// Verification pins everything it can (RFC 8725 §3.1–3.12): algorithm, issuer, audience,
// `typ`, expiry, and the key id; it never trusts a key or URL carried in the token header.

import { importJWK, jwtVerify, SignJWT, errors as joseErrors, type JWTPayload } from "jose";
import type { Env } from "./env.ts";
import type { KeyMaterial } from "./objects/signing-keys-object.ts";

/** Short: every MCP request also asks the account object whether the session is live. */
export const ACCESS_TOKEN_TTL_S = 10 * 60;
/** Time for a person to read a page and submit it (sign-in → consent). */
export const TICKET_TTL_S = 15 * 60;
const CLOCK_TOLERANCE_S = 5;

interface Loaded {
  readonly material: KeyMaterial;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly ticketKey: Uint8Array;
}

let cached: Promise<Loaded> | undefined;

/** One fetch per isolate; a failed fetch is not cached. */
export function loadKeys(env: Env): Promise<Loaded> {
  cached ??= (async () => {
    const material = await env.KEYS.get(env.KEYS.idFromName("signing-keys")).current();
    return {
      material,
      privateKey: (await importJWK(material.privateJwk, "ES256")) as CryptoKey,
      publicKey: (await importJWK(material.publicJwk, "ES256")) as CryptoKey,
      ticketKey: Uint8Array.from(atob(material.ticketSecret.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0)),
    };
  })().catch((error) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

export async function jwks(env: Env) {
  const { material } = await loadKeys(env);
  return { keys: [material.publicJwk] };
}

export interface AccessClaims {
  readonly sub: string;
  readonly sid: string;
  readonly client_id: string;
  readonly scope: string;
}

export async function signAccessToken(env: Env, issuer: string, audience: string, claims: AccessClaims) {
  const { material, privateKey } = await loadKeys(env);
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: material.kid })
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
  const { material, publicKey } = await loadKeys(env);
  try {
    const { payload, protectedHeader } = await jwtVerify(token, publicKey, {
      algorithms: ["ES256"],
      typ: "at+jwt",
      issuer,
      audience,
      clockTolerance: CLOCK_TOLERANCE_S,
      // Revocation (RFC 7009) accepts our expired tokens: the session may outlive them.
      ...(options.allowExpired ? { currentDate: new Date(0) } : {}),
      requiredClaims: ["exp", "iat", "sub", "jti"],
    });
    if (protectedHeader.kid !== material.kid) return null;
    const { sub, sid, client_id, scope } = payload as Record<string, unknown>;
    if (typeof sub !== "string" || typeof sid !== "string" || typeof client_id !== "string" || typeof scope !== "string") return null;
    return payload as VerifiedAccess;
  } catch (error) {
    if (error instanceof joseErrors.JOSEError || error instanceof TypeError) return null;
    throw error;
  }
}

/** A signed, expiring ticket carried in a hidden form field between pages (HS256). */
export async function signTicket(env: Env, purpose: string, payload: Record<string, unknown>): Promise<string> {
  const { ticketKey } = await loadKeys(env);
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "HS256", typ: `warden-${purpose}` })
    .setIssuedAt()
    .setExpirationTime(`${TICKET_TTL_S}s`)
    .setJti(crypto.randomUUID())
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
