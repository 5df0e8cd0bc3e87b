// Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document-02; MCP
// authorization 2025-11-25 "Client ID Metadata Documents"): a client_id that is an https URL
// names a JSON document the client publishes about itself. Warden fetches it under strict
// limits, validates it like a registration, and caches it per the response's HTTP headers in
// the ClientRegistryObject addressed by idFromName(url). Errors are never cached (§5.2).

import { parseScopes, redirectUriProblem, SUPPORTED_SCOPES } from "../../domain/oauth.ts";
import type { Env } from "../env.ts";
import type { ClientMetadata } from "../objects/client-registry-object.ts";
import { clientIdUrlProblem, type UrlPolicy } from "./cimd-url.ts";

export { isMetadataUrl, metadataDocumentHost } from "./cimd-url.ts";

/** §8.7: "The recommended maximum size to read is 5 kilobytes." */
export const MAX_DOCUMENT_BYTES = 5 * 1024;
/** The whole fetch, body included. A person is waiting on /authorize; a healthy host answers in well under a second. */
export const FETCH_TIMEOUT_MS = 3_000;
/**
 * Cache lifetimes (§5.2 lets the AS bound what the headers say). Without a freshness header:
 * 5 minutes, long enough to span one authorization (authorize, then token) without a refetch,
 * short enough that a changed redirect_uris list takes effect soon. Positive lifetimes are
 * raised to 30 s so one busy client cannot make every request a fetch, and capped at 24 h
 * so a document's changes and removal are noticed daily at worst (the limits oidc-provider uses).
 */
export const CACHE_DEFAULT_S = 300;
export const CACHE_MIN_S = 30;
export const CACHE_MAX_S = 86_400;

export type Resolution = { readonly ok: true; readonly client: ClientMetadata } | { readonly ok: false; readonly problem: string };

const fail = (problem: string): { ok: false; problem: string } => ({ ok: false, problem });

export const urlPolicy = (env: Env): UrlPolicy => ({ allowLoopback: env.ALLOW_LOOPBACK_CIMD === "true" });

/** Resolves a Client Identifier URL to its client: from the cache while fresh, else fetched. */
export async function resolveMetadataDocument(env: Env, clientId: string, now = Date.now()): Promise<Resolution> {
  const problem = clientIdUrlProblem(clientId, urlPolicy(env));
  if (problem) return fail(problem);
  const registry = env.CLIENTS.get(env.CLIENTS.idFromName(clientId));
  const cached = await registry.cachedDocument(now);
  if (cached) return { ok: true, client: cached };
  const fetched = await fetchDocument(clientId);
  const resolution = fetched.ok ? validateDocument(clientId, fetched.body, now) : fetched;
  const lifetime = resolution.ok && fetched.ok ? cacheLifetime(fetched.headers, now) : 0;
  // A failure or a no-store answer also drops whatever stale copy the object still holds.
  await registry.cacheDocument(resolution.ok && lifetime > 0 ? { metadata: resolution.client, fetchedAt: now, expiresAt: now + lifetime * 1000 } : null);
  return resolution;
}

/** §4: a 200 with a JSON content type, read up to MAX_DOCUMENT_BYTES within FETCH_TIMEOUT_MS. */
async function fetchDocument(url: string): Promise<{ ok: true; body: unknown; headers: Headers } | { ok: false; problem: string }> {
  const signal = AbortSignal.timeout(FETCH_TIMEOUT_MS);
  const timedOut = `the document did not arrive within ${FETCH_TIMEOUT_MS / 1000} seconds`;
  let response: Response;
  try {
    // §5: redirects are never followed (a redirect could lead past the SSRF guard).
    response = await fetch(url, { redirect: "manual", signal, headers: { accept: "application/json" } });
  } catch {
    return fail(signal.aborted ? timedOut : "the document could not be fetched");
  }
  const refuse = async (problem: string) => {
    await response.body?.cancel().catch(() => {});
    return fail(problem);
  };
  if (response.status >= 300 && response.status < 400) return refuse(`the document URL answered with a redirect (HTTP ${response.status}), which is not followed`);
  if (response.status !== 200) return refuse(`the document URL answered HTTP ${response.status}`);
  const mediaType = (response.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaType !== "application/json" && !/^application\/[a-z0-9.!#$&^_-]+\+json$/.test(mediaType)) {
    return refuse(`the document is served as ${JSON.stringify(mediaType || "no content type")}, not application/json`);
  }
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (declared > MAX_DOCUMENT_BYTES) return refuse(`the document is larger than ${MAX_DOCUMENT_BYTES} bytes`);
  // A connection that breaks mid-body is the host's failure, not ours: a problem, never a 500.
  const bytes = await readBounded(response, signal).catch(() => "broken" as const);
  if (bytes === "too-large") return fail(`the document is larger than ${MAX_DOCUMENT_BYTES} bytes`);
  if (bytes === "timeout") return fail(timedOut);
  if (bytes === "broken") return fail("the connection broke while reading the document");
  try {
    return { ok: true, body: JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes)), headers: response.headers };
  } catch {
    return fail("the document is not valid UTF-8 JSON");
  }
}

/**
 * §8.7: stop reading at the limit whatever Content-Length said (it may be absent, chunked, or
 * wrong), and give up at the deadline even if the body trickles in.
 */
async function readBounded(response: Response, signal: AbortSignal): Promise<Uint8Array | "too-large" | "timeout"> {
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  const deadline = new Promise<"timeout">((resolve) => {
    if (signal.aborted) resolve("timeout");
    signal.addEventListener("abort", () => resolve("timeout"), { once: true });
  });
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const next = await Promise.race([reader.read(), deadline]);
    if (next === "timeout" || !next.done && total + next.value.byteLength > MAX_DOCUMENT_BYTES) {
      await reader.cancel().catch(() => {});
      return next === "timeout" ? "timeout" : "too-large";
    }
    if (next.done) break;
    chunks.push(next.value);
    total += next.value.byteLength;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

// Shared-secret methods (§4.1): a document is public, so no secret can be established through it.
const SHARED_SECRET_METHODS = new Set(["client_secret_basic", "client_secret_post", "client_secret_jwt"]);
const GRANT_TYPES = ["authorization_code", "refresh_token"];

/** A display string: bounded, and no control or bidi-format characters (they could disguise a name). */
function displayString(doc: Record<string, unknown>, key: string, max: number): string | undefined | Error {
  const value = doc[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value.length > max) return new Error(`${key} must be a string of at most ${max} characters`);
  if (/[\p{Cc}\p{Cf}]/u.test(value)) return new Error(`${key} must not contain control or formatting characters`);
  return value;
}

/**
 * §4 and §4.1, then the same rules as a registration (RFC 7591 §2): client_id equal to the URL
 * by simple string comparison, redirect_uris present and valid, `none` as the only token
 * endpoint auth method (absent means `none`: a document cannot carry a secret, and Warden
 * does not accept private_key_jwt), no client_secret, known grant types and scopes.
 */
export function validateDocument(clientId: string, body: unknown, now: number): Resolution {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return fail("the document is not a JSON object");
  const doc = body as Record<string, unknown>;
  if (doc.client_id !== clientId) return fail("the document's client_id does not match the URL it was fetched from");
  if ("client_secret" in doc || "client_secret_expires_at" in doc) return fail("the document must not contain a client_secret");
  const method = doc.token_endpoint_auth_method ?? "none";
  if (typeof method === "string" && SHARED_SECRET_METHODS.has(method)) {
    return fail(`token_endpoint_auth_method ${method} needs a shared secret, which a metadata document cannot establish`);
  }
  if (method !== "none") return fail("token_endpoint_auth_method must be none");
  const uris = doc.redirect_uris;
  if (!Array.isArray(uris) || uris.length === 0 || uris.length > 10 || !uris.every((u) => typeof u === "string")) {
    return fail("redirect_uris must be a non-empty array of at most 10 strings");
  }
  for (const uri of uris as string[]) {
    const problem = redirectUriProblem(uri);
    if (problem) return fail(problem);
  }
  const grantTypes = doc.grant_types ?? GRANT_TYPES;
  if (!Array.isArray(grantTypes) || !grantTypes.every((g) => GRANT_TYPES.includes(g as string)) || !grantTypes.includes("authorization_code")) {
    return fail(`grant_types must include authorization_code and only ${GRANT_TYPES.join(", ")}`);
  }
  const responseTypes = doc.response_types ?? ["code"];
  if (!Array.isArray(responseTypes) || responseTypes.length !== 1 || responseTypes[0] !== "code") return fail("response_types must be [\"code\"]");
  const scopeField = displayString(doc, "scope", 512);
  if (scopeField instanceof Error) return fail(scopeField.message);
  const scopes = parseScopes(scopeField);
  if ("invalid" in scopes) return fail(`unknown scope ${scopes.invalid}`);
  const strings: Record<string, string> = {};
  for (const [key, max] of [["client_name", 100], ["client_uri", 512], ["logo_uri", 512], ["software_id", 512], ["software_version", 512]] as const) {
    const value = displayString(doc, key, max);
    if (value instanceof Error) return fail(value.message);
    // §8.6: only known schemes; these are shown, never fetched, but never as javascript: or data:.
    if (value !== undefined && key.endsWith("_uri") && !value.startsWith("https://")) return fail(`${key} must be an https URL`);
    if (value !== undefined) strings[key] = value;
  }
  return {
    ok: true,
    client: {
      ...strings,
      client_id: clientId,
      client_id_issued_at: Math.floor(now / 1000),
      // Unnamed: the host is what the person can check (§8.5).
      client_name: strings.client_name ?? new URL(clientId).host,
      redirect_uris: uris as string[],
      grant_types: grantTypes as string[],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
      scope: (scopeField === undefined ? [...SUPPORTED_SCOPES] : scopes.scopes).join(" "),
    },
  };
}

/**
 * RFC 9111 freshness for our own (shared) cache, in seconds; 0 means "do not reuse".
 * no-store and no-cache (we do not revalidate) are 0; s-maxage wins over max-age (§5.2.2.10);
 * then Expires − Date (§5.3; an invalid Expires is already stale); Age is subtracted (§4.2.3).
 */
export function cacheLifetime(headers: Headers, now: number): number {
  const directives = new Map<string, string>();
  for (const part of (headers.get("cache-control") ?? "").split(",")) {
    const [name, value] = part.trim().split("=", 2) as [string, string | undefined];
    if (name) directives.set(name.toLowerCase(), (value ?? "").replace(/^"|"$/g, ""));
  }
  if (directives.has("no-store") || directives.has("no-cache")) return 0;
  const age = /^\d+$/.test(headers.get("age") ?? "") ? Number(headers.get("age")) : 0;
  const seconds = (value: string | undefined) => (value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined);
  let lifetime = seconds(directives.get("s-maxage")) ?? seconds(directives.get("max-age"));
  if (lifetime === undefined && headers.has("expires")) {
    const expires = Date.parse(headers.get("expires")!);
    const date = Date.parse(headers.get("date") ?? "");
    lifetime = Number.isNaN(expires) ? 0 : Math.floor((expires - (Number.isNaN(date) ? now : date)) / 1000);
  }
  if (lifetime === undefined) return CACHE_DEFAULT_S;
  const remaining = lifetime - age;
  return remaining <= 0 ? 0 : Math.min(CACHE_MAX_S, Math.max(CACHE_MIN_S, remaining));
}
