// Consent once the person is known (fresh sign-in or a browser session): remembered consent
// goes straight back to the client, anything else shows the consent page.
//
// Remembered consent (like Keycloak's and Auth0's): when the account already granted this
// client every requested scope (ConsentGranted, not revoked since), the code is issued without
// the page, through the same AccountObject.approve a click on Allow uses, so the same events and
// the same single-use code result. It is NOT remembered:
// - for clients whose redirect URIs are all loopback: any program on the machine can register
//   such a client under any name and listen on the port, so the person must see who asks every
//   time (MCP authorization spec, security considerations; RFC 8252 §8.6);
// - with `prompt=consent` (OpenID Connect Core §3.1.2.1);
// - when a scope was never granted (widening): the page lists the new scopes.

import { redirectDestination } from "../../domain/oauth.ts";
import { sha256Base64Url } from "../crypto.ts";
import type { Env } from "../env.ts";
import { errorRedirect, html, issuerOf, redirect, requestMeta } from "../http/responses.ts";
import { signTicket } from "../keys.ts";
import type { AuthRequest } from "../oauth/authorize.ts";
import { accountStub } from "../services/accounts.ts";
import { csrfToken, type AuthMethod, type BrowserSession, type ResumeStatus } from "./browser-session.ts";
import { consentPage, messagePage } from "./templates.ts";

/** Whether a code may be issued without the page: granted before, not loopback, not forced. */
export const consentRemembered = (authRequest: AuthRequest, consented: ReadonlyArray<string>) =>
  !authRequest.localOnly && !authRequest.forceConsent && authRequest.scopes.every((s) => consented.includes(s));

/**
 * The signed-in person continues the authorization request: a remembered consent redirects
 * with a code; otherwise the consent page (or, for `prompt=none`, `consent_required`).
 */
export async function continueToConsent(
  env: Env,
  request: Request,
  authRequest: AuthRequest,
  session: BrowserSession,
  status: ResumeStatus,
  options: { interactive: boolean } = { interactive: true },
): Promise<Response> {
  if (consentRemembered(authRequest, status.consented)) {
    // One automatic code per PKCE challenge per browser session: a repeat of the same request
    // (reload, prefetch) finds its ticket answered and falls through to the page.
    const ticketId = `remembered:${sha256Base64Url(`${session.sid}\n${authRequest.clientId}\n${authRequest.codeChallenge}`)}`;
    const issued = await approveAndRedirect(env, request, authRequest, session.accountId, ticketId, session.amr);
    if (issued) return issued;
  }
  if (!options.interactive) {
    return errorRedirect(issuerOf(request), authRequest.redirectUri, authRequest.state, "consent_required", "the user must approve this request");
  }
  return showConsent(env, authRequest, session, status);
}

async function showConsent(env: Env, authRequest: AuthRequest, session: BrowserSession, status: ResumeStatus): Promise<Response> {
  // The ticket binds this consent to one account and one authorization request; its id makes
  // it single-use (AccountObject refuses a second code for the same ticket) and, through the
  // CSRF token, binds it to this browser's session cookie.
  const ticketId = crypto.randomUUID();
  const ticket = await signTicket(env, "consent", { accountId: session.accountId, request: authRequest, amr: session.amr, jti: ticketId });
  const previously = status.consented;
  return html(
    consentPage({
      ticket,
      csrf: await csrfToken(env, session, ticketId),
      clientName: authRequest.clientName,
      clientId: authRequest.clientId,
      redirectHost: redirectDestination(authRequest.redirectUri),
      redirectUri: authRequest.redirectUri,
      scopes: authRequest.scopes,
      newScopes: previously.length > 0 ? authRequest.scopes.filter((s) => !previously.includes(s)) : [],
      email: status.account.email,
      localOnly: authRequest.localOnly,
    }),
    200,
    {},
    [cspSource(authRequest.redirectUri)],
  );
}

/** The CSP source for a redirect URI: its origin, or just its scheme for app schemes. */
const cspSource = (uri: string) => {
  const url = new URL(uri);
  return url.protocol === "http:" || url.protocol === "https:" ? url.origin : url.protocol;
};

/**
 * Records the approval (ConsentGranted unless already covered) and issues the single-use code,
 * then redirects with code, state and iss (RFC 6749 §4.1.2, RFC 9207 §2). null when the ticket
 * was already answered.
 */
export async function approveAndRedirect(
  env: Env,
  request: Request,
  authRequest: AuthRequest,
  accountId: string,
  ticketId: string,
  amr: ReadonlyArray<AuthMethod>,
): Promise<Response | null> {
  const approved = await accountStub(env, accountId).approve(
    {
      ticketId,
      clientId: authRequest.clientId,
      clientName: authRequest.clientName,
      redirectUri: authRequest.redirectUri,
      redirectHost: redirectDestination(authRequest.redirectUri),
      codeChallenge: authRequest.codeChallenge,
      scopes: authRequest.scopes,
      resource: authRequest.resource,
      // How the person signed in travels with the code into SessionStarted and the token.
      amr,
    },
    requestMeta(request),
  );
  if (!approved.ok) return null;
  const url = new URL(authRequest.redirectUri);
  url.searchParams.set("code", approved.value.code);
  if (authRequest.state !== null) url.searchParams.set("state", authRequest.state);
  url.searchParams.set("iss", issuerOf(request));
  return redirect(url.toString());
}

export const alreadyAnswered = () =>
  html(messagePage("Already answered", "You already answered this request. Go back to your application and start again."), 400);
