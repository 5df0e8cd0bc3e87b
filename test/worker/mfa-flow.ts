// Drives the second-factor pages the way a browser does (hidden fields posted back, the
// browser-session cookie kept for consent), for mfa.test.ts and password-change.test.ts.
// TOTP codes are computed with src/totp.ts from the secret the enrollment page shows, as an
// authenticator app would.

import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { expect } from "vitest";
import { base32Decode, hotp, timeStep } from "../../src/totp.ts";
import { accountStub, answerConsent, call, consentFormOf, form, freshEmail, pkcePair, registerClient } from "./helpers.ts";

export const PASSWORD = "plum-Quartz-7-harbour";
export const REDIRECT = "http://127.0.0.1:33418/callback";

export const hidden = (page: string, name: string) => {
  const value = new RegExp(`name="${name}" value="([^"]+)"`).exec(page)?.[1];
  if (!value) throw new Error(`no hidden ${name} on: ${page.slice(0, 400)}`);
  return value.replace(/&amp;/g, "&");
};

/** A person who signed up through /signup (no OAuth request): email, account id, stub. */
export async function signedUpPerson(password = PASSWORD) {
  const email = freshEmail();
  const res = await call("/signup", form({ email, password }));
  expect(res.status).toBe(201);
  const accountId = (await env.EMAILS.get(env.EMAILS.idFromName(email)).owner())!;
  return { email, accountId, stub: accountStub(accountId) };
}

/** The security page after a password (and, with MFA, a code) sign-in: its HTML and ticket. */
export async function openSecurity(email: string, password = PASSWORD, code?: string) {
  let res = await call("/account/security", form({ email, password }));
  if (code !== undefined) {
    expect(res.status).toBe(200);
    res = await call("/account/security/verify", form({ ticket: hidden(await res.text(), "ticket"), code }));
  }
  const page = await res.text();
  expect(res.status, page.slice(0, 300)).toBe(200);
  return { page, ticket: hidden(page, "ticket") };
}

/** The code an authenticator app shows `delta` steps from now. */
export const codeAt = (seed: Uint8Array, delta = 0) => hotp(seed, timeStep(Date.now()) + delta);

/** A six-digit code that is valid at no step of the acceptance window. */
export async function wrongCode(seed: Uint8Array) {
  const valid = new Set(await Promise.all([-1, 0, 1, 2].map((d) => codeAt(seed, d))));
  for (let n = 0; ; n++) {
    const guess = String(n).padStart(6, "0");
    if (!valid.has(guess)) return guess;
  }
}

/** Enrollment through the pages: the secret the page showed, its seed, and the recovery codes. */
export async function enroll(email: string) {
  const { ticket } = await openSecurity(email);
  const enrollPage = await (await call("/account/mfa/enroll", form({ ticket }))).text();
  const secret = /id="totp-secret">([^<]+)</.exec(enrollPage)![1]!.replace(/\s/g, "");
  const seed = base32Decode(secret)!;
  const confirmed = await call("/account/mfa/confirm", form({ ticket, enrollment: hidden(enrollPage, "enrollment"), code: await codeAt(seed) }));
  const page = await confirmed.text();
  expect(confirmed.status, page.slice(0, 300)).toBe(200);
  const codes = [...page.matchAll(/<li><code>([^<]+)<\/code><\/li>/g)].map((m) => m[1]!);
  expect(codes).toHaveLength(10);
  return { secret, seed, codes, enrollPage, ticket: hidden(page, "ticket") };
}

/** GET /authorize for a fresh public client, then the password form: the response to it. */
export async function passwordStep(email: string, password = PASSWORD) {
  const clientId = await registerClient([REDIRECT]);
  const pkce = pkcePair();
  const params = new URLSearchParams({
    response_type: "code", client_id: clientId, redirect_uri: REDIRECT, state: "st-mfa",
    code_challenge: pkce.challenge, code_challenge_method: "S256", scope: "account:read",
  });
  const signIn = await (await call(`/authorize?${params}`)).text();
  const res = await call("/login", form({ email, password, request: hidden(signIn, "request") }));
  return { res, clientId, pkce };
}

/** From the consent page to tokens: allow, then redeem the code at /token with PKCE. */
export async function consentAndRedeem(consentResponse: Response, clientId: string, verifier: string) {
  const consent = await consentFormOf(consentResponse);
  const redirected = await answerConsent(consent, "allow");
  expect(redirected.status).toBe(302);
  const code = new URL(redirected.headers.get("location")!).searchParams.get("code")!;
  const res = await call("/token", form({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: clientId }));
  expect(res.status).toBe(200);
  const tokens = (await res.json()) as { access_token: string; refresh_token: string };
  return { ...tokens, claims: decodeJwt(tokens.access_token) };
}

/** One MCP tools/call with a bearer token; the tool result (or the HTTP status when refused). */
export async function mcpTool(token: string, name: string): Promise<{ status: number; result?: { structuredContent?: Record<string, unknown>; isError?: boolean } }> {
  const res = await call("/mcp", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: {} } }),
  });
  const text = await res.text();
  if (res.status !== 200) return { status: res.status };
  const json = res.headers.get("content-type")?.includes("text/event-stream")
    ? JSON.parse(text.split("\n").find((l) => l.startsWith("data:"))!.slice(5))
    : JSON.parse(text);
  return { status: 200, result: json.result };
}
