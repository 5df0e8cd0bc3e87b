// The browser sign-in session: after a sign-in, a cookie lets later /authorize requests from the
// same browser skip the password page (like Keycloak's and Auth0's SSO session), and binds the
// consent form to this browser (CSRF token).
//
// Cookie attributes (RFC 6265bis §4.1.3.2, §5.6.7):
// - `__Host-` prefix: the browser accepts it only with Secure, Path=/ and no Domain, so no
//   subdomain and no plain-http page can set or overwrite it (cookie tossing).
// - HttpOnly: no script reads it (the pages run none, but a future one cannot leak it).
// - SameSite=Lax: sent on the top-level GET navigation that brings the person from the client
//   to /authorize (needed to recognise them), never on a cross-site POST or subresource.
//   Strict would drop it on exactly that navigation. Chromium treats http://127.0.0.1 and
//   http://localhost as secure contexts, so Secure cookies work in local development too.
//
// The value is a signed ticket (HS256, typ `warden-browser-session`), stateless: account id, a
// random session id (the CSRF binding), when and how the person authenticated (RFC 8176
// `amr`). It is not a credential for tokens: it only skips the password form; a code still
// needs a registered client, its redirect URI and PKCE. Because nothing is stored server-side,
// every use re-checks the account (closed, locked, password changed since, second factor).

import { authenticationProblemOf, type AuthenticationFacts, type AuthenticationProblem } from "../../domain/authentication.ts";
import { Schema } from "effect";
import { AuthMethod } from "../../domain/events.ts";
import type { Env } from "../env.ts";
import { constantTimeEqual, randomToken } from "../crypto.ts";
import { signTicket, ticketMac, verifyTicket } from "../keys.ts";
import type { AccountView } from "../objects/account-object.ts";

export const SESSION_COOKIE = "__Host-warden-session";
/**
 * Absolute lifetime, never extended: a working day. MCP clients come back to /authorize rarely
 * (their refresh tokens last 30 days), so a longer SSO session buys little and widens the window
 * for a cookie left on a shared machine. Keycloak's default SSO Session Max is 10 h.
 */
export const BROWSER_SESSION_TTL_S = 12 * 60 * 60;

export { AuthMethod };
const isAuthMethod = Schema.is(AuthMethod);

/** The RFC 8176 methods in a ticket's `amr` claim; anything else in it is dropped. */
export const authMethodsOf = (claim: ReadonlyArray<unknown>): AuthMethod[] => claim.filter(isAuthMethod);

export interface BrowserSession {
  readonly accountId: string;
  /** Random per sign-in: the CSRF token is bound to it. */
  readonly sid: string;
  /** When the person authenticated (ms since the epoch). */
  readonly authAt: number;
  readonly amr: ReadonlyArray<AuthMethod>;
}

const ATTRIBUTES = "Path=/; Secure; HttpOnly; SameSite=Lax";

/** A new session after a sign-in, and the Set-Cookie header that stores it. */
export async function startBrowserSession(env: Env, accountId: string, amr: ReadonlyArray<AuthMethod>, at = Date.now()) {
  const session: BrowserSession = { accountId, sid: randomToken(16), authAt: at, amr: [...amr] };
  const value = await signTicket(env, "browser-session", { ...session }, BROWSER_SESSION_TTL_S);
  return { session, setCookie: `${SESSION_COOKIE}=${value}; Max-Age=${BROWSER_SESSION_TTL_S}; ${ATTRIBUTES}` };
}

/** Set-Cookie that removes the session ("Not you?", or a session that no longer holds). */
export const clearBrowserSession = `${SESSION_COOKIE}=; Max-Age=0; ${ATTRIBUTES}`;

/** The value of one cookie in the request's Cookie header (RFC 6265 §5.4), or null. */
export function cookieValue(request: Request, name: string): string | null {
  const header = request.headers.get("cookie");
  if (!header) return null;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return null;
}

/** The request's browser session if its cookie carries one we signed and it has not expired. */
export async function readBrowserSession(env: Env, request: Request): Promise<BrowserSession | null> {
  const value = cookieValue(request, SESSION_COOKIE);
  if (!value || value.length > 4096) return null;
  const p = await verifyTicket(env, "browser-session", value);
  if (!p || typeof p.accountId !== "string" || typeof p.sid !== "string" || typeof p.authAt !== "number" || !Array.isArray(p.amr)) return null;
  return { accountId: p.accountId, sid: p.sid, authAt: p.authAt, amr: authMethodsOf(p.amr) };
}

/** The account as the session check needs it (AccountObject.resumeStatus). */
export interface ResumeStatus {
  readonly account: AccountView;
  readonly locked: boolean;
  readonly consented: ReadonlyArray<string>;
}

/** The account facts domain/authentication.ts decides on, from what resumeStatus returns. */
export const authenticationFactsOfStatus = (status: ResumeStatus): AuthenticationFacts => ({
  closed: status.account.closed,
  locked: status.locked,
  passwordChangedAt: status.account.passwordChangedAt ?? null,
  mfaEnabled: status.account.mfaEnabled === true,
});

const SESSION_PROBLEM: Record<AuthenticationProblem, string> = {
  closed: "account_closed",
  locked: "account_locked",
  credentials_changed: "password_changed",
  second_factor_required: "second_factor_missing",
};

/**
 * Why a browser session may no longer skip the password page, or null when it may. A session
 * outlives none of: the account closing, a lockout (someone is guessing: ask the person again
 * once it ends), a password change at or after the sign-in (the change is meant to end sessions), a
 * second factor the session never presented.
 */
export function sessionProblem(session: BrowserSession, status: ResumeStatus | null, at: number, maxAgeS: number | null): string | null {
  if (status === null || status.account.accountId !== session.accountId) return "unknown_account";
  // The same rule the account object applies to consent and codes (domain/authentication.ts).
  const problem = authenticationProblemOf(authenticationFactsOfStatus(status), session);
  if (problem !== null) return SESSION_PROBLEM[problem];
  // OpenID Connect Core §3.1.2.1 max_age: the person must have authenticated this recently.
  if (maxAgeS !== null && at - session.authAt > maxAgeS * 1000) return "max_age";
  return null;
}

/**
 * The consent form's CSRF token: HMAC(ticket key, browser session id, consent ticket id). Only
 * the browser holding this session's cookie can pair it with this ticket, so a consent page
 * obtained by someone else (an attacker's own sign-in) cannot be submitted from a victim's
 * browser, and a victim's ticket is useless without the victim's cookie.
 */
export const csrfToken = (env: Env, session: BrowserSession, ticketId: string) =>
  ticketMac(env, `warden-csrf\u0000${session.sid}\u0000${ticketId}`);

export async function csrfMatches(env: Env, session: BrowserSession, ticketId: string, presented: string | undefined): Promise<boolean> {
  if (!presented) return false;
  return constantTimeEqual(await csrfToken(env, session, ticketId), presented);
}
