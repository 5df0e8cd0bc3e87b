// Shared fixtures for the workerd integration tests. Storage is NOT isolated per test in
// @cloudflare/vitest-plugin 1.5 (a row written in one test is visible in the next), so
// every test works on fresh random account ids, emails and client ids.

import { env, exports } from "cloudflare:workers";
import { createHash, randomBytes } from "node:crypto";
import type { RequestMeta } from "../../src/objects/account-object.ts";
import type { CodeRequest } from "../../src/objects/account-tokens.ts";
import type { PasswordHash } from "../../src/password.ts";

export const ORIGIN = "https://warden.test";
export const RESOURCE = `${ORIGIN}/mcp`;

export const meta = (at = Date.now()): RequestMeta => ({
  requestId: crypto.randomUUID(),
  at,
  clientIp: "203.0.113.7",
  userAgent: "vitest",
});

export const freshEmail = () => `user-${crypto.randomUUID()}@example.com`;

/** A well-formed hash record with random bytes: the object stores it, it never checks it. */
export const randomPasswordHash = (): PasswordHash => ({
  scheme: "scrypt",
  n: 2 ** 15,
  r: 8,
  p: 3,
  salt: randomBytes(16).toString("base64"),
  hash: randomBytes(32).toString("base64"),
});

export const accountStub = (accountId: string) => env.ACCOUNTS.get(env.ACCOUNTS.idFromName(accountId));

export async function registeredAccount(options: { isAdmin?: boolean; password?: PasswordHash } = {}) {
  const accountId = crypto.randomUUID();
  const email = freshEmail();
  const stub = accountStub(accountId);
  const password = options.password ?? randomPasswordHash();
  const result = await stub.register({ accountId, email, password, isAdmin: options.isAdmin ?? false }, meta());
  if (!result.ok) throw new Error(`registration failed: ${result.message}`);
  return { accountId, email, stub, password, result };
}

export const pkcePair = () => {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
};

export const codeRequest = (overrides: Partial<CodeRequest> = {}): CodeRequest & { verifier: string } => {
  const { verifier, challenge } = pkcePair();
  return {
    ticketId: crypto.randomUUID(),
    clientId: `client-${crypto.randomUUID()}`,
    clientName: "Test client",
    redirectUri: "http://127.0.0.1:33418/callback",
    redirectHost: "127.0.0.1:33418",
    codeChallenge: challenge,
    scopes: ["account:read"],
    resource: RESOURCE,
    verifier,
    ...overrides,
  };
};

/** Calls the Worker's default export, as a client on the internet would. */
export const call = (path: string, init?: RequestInit) => exports.default.fetch(new Request(`${ORIGIN}${path}`, init));

export const form = (fields: Record<string, string> | Array<[string, string]>): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields).toString(),
});

export const jsonBody = (body: unknown, contentType = "application/json"): RequestInit => ({
  method: "POST",
  headers: { "content-type": contentType },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

/** Registers a public client through /register and returns its client_id. */
export async function registerClient(redirectUris: string[] = ["http://127.0.0.1:33418/callback"]): Promise<string> {
  const res = await call("/register", jsonBody({ client_name: "Integration test", redirect_uris: redirectUris }));
  if (res.status !== 201) throw new Error(`client registration failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { client_id: string }).client_id;
}

/**
 * The first request into the Worker loads its whole module graph (the MCP SDK included),
 * which can take several seconds in a cold run; do it in a hook with room, not in a test.
 */
export const WARM_UP_TIMEOUT_MS = 60_000;
export async function warmUp(): Promise<void> {
  await (await call("/")).text();
}
