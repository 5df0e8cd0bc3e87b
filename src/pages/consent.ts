// Consent once the person is known (fresh sign-in or a browser session): remembered consent
// goes straight back to the client, anything else shows the consent page.
//
// Remembered consent (like Keycloak's and Auth0's): when the account already granted this
// client every requested scope (ConsentGranted, not revoked since), the code is issued without
// the page, through the same AccountObject.approve a click on Allow uses, so the same events and
// the same single-use code result. It is NOT remembered:
// - when the redirect_uri presented in THIS request is loopback or a private-use scheme
//   (domain/oauth.ts isInteractionRequired), whatever else the client registered: any program
//   on the machine can listen on a loopback port (any port matches, RFC 8252 §7.3) or claim an
//   app scheme and send the client's id, so the person must see who asks every time (MCP
//   authorization spec, security considerations; RFC 8252 §8.6);
// - with `prompt=consent` (OpenID Connect Core §3.1.2.1);
// - when a scope was never granted (widening): the page lists the new scopes.

import { isInteractionRequired, redirectDestination, redirectReach } from "../../domain/oauth.ts";
import { sha256Base64Url } from "../crypto.ts";
import type { Env } from "../env.ts";
import { errorRedirect, html, issuerOf, redirect, requestMeta } from "../http/responses.ts";
import { signTicket } from "../keys.ts";
import type { AuthRequest } from "../oauth/authorize.ts";
import { scopesBeyondRoles } from "../mcp/gates.ts";
import { accountStub } from "../services/accounts.ts";
import { clearBrowserSession, csrfToken, type AuthMethod, type BrowserSession, type ResumeStatus } from "./browser-session.ts";
import { consentPage, messagePage } from "./templates.ts";

/** Whether a code may be issued without the page: granted before, sent to the web, not forced. */
export const consentRemembered = (authRequest: AuthRequest, consented: ReadonlyArray<string>) =>
  !isInteractionRequired(authRequest.redirectUri) && !authRequest.forceConsent && authRequest.scopes.every((s) => consented.includes(s));

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
    const issued = await approveAndRedirect(env, request, authRequest, session.accountId, ticketId, session);
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
  // When and how the person signed in travel with it: the account re-checks both at Allow.
  const ticket = await signTicket(env, "consent", { accountId: session.accountId, request: authRequest, amr: session.amr, authAt: session.authAt, jti: ticketId });
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
      beyondRoles: scopesBeyondRoles(authRequest.scopes, status.account.permissions),
      email: status.account.email,
      reach: redirectReach(authRequest.redirectUri),
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
 * was already answered; the "sign in again" page when the sign-in behind it no longer stands
 * (domain/authentication.ts: password changed, MFA turned on, locked), nothing recorded.
 */
export async function approveAndRedirect(
  env: Env,
  request: Request,
  authRequest: AuthRequest,
  accountId: string,
  ticketId: string,
  auth: { readonly authAt: number; readonly amr: ReadonlyArray<AuthMethod> },
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
      // How and when the person signed in travel with the code into SessionStarted and the token.
      amr: auth.amr,
      authAt: auth.authAt,
    },
    requestMeta(request),
  );
  if (!approved.ok) return approved.reason === "reauthentication_required" ? signInAgain() : null;
  const url = new URL(authRequest.redirectUri);
  url.searchParams.set("code", approved.value.code);
  if (authRequest.state !== null) url.searchParams.set("state", authRequest.state);
  url.searchParams.set("iss", issuerOf(request));
  return redirect(url.toString());
}

/**
 * The sign-in behind a page no longer stands: the browser session ends (its cookie is cleared)
 * and the person starts again from the application, which brings them to the password page.
 */
export const signInAgain = (next = "Go back to your application and sign in again.") => {
  const response = html(
    messagePage(
      "Sign in again",
      `Your account changed since you signed in (a new password, two-step verification turned on, or sign-in paused after failed attempts). Nothing was approved. ${next}`,
    ),
    403,
  );
  response.headers.append("Set-Cookie", clearBrowserSession);
  return response;
};

export const alreadyAnswered = () =>
  html(messagePage("Already answered", "You already answered this request. Go back to your application and start again."), 400);
