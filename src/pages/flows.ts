// The sign-up, sign-in and consent pages: form in, workflow run, page or redirect out.
// Between pages, state travels in signed, expiring tickets (src/keys.ts): the validated
// authorization request, then (after sign-in) the account it was approved for. A sign-in also
// starts a browser session (src/pages/browser-session.ts): a `__Host-` cookie that lets later
// authorizations skip the password page and binds the consent form to this browser (CSRF).

import { Effect, Layer } from "effect";
import { parseAdminEmails, PASSWORD_MIN } from "../../domain/credentials.ts";
import type { Env } from "../env.ts";
import { readForm, single } from "../http/body.ts";
import { errorRedirect, html, issuerOf, requestMeta } from "../http/responses.ts";
import { signTicket, verifyTicket } from "../keys.ts";
import type { AccountView } from "../objects/account-object.ts";
import { readAuthRequest, type AuthRequest } from "../oauth/authorize.ts";
import { accountsLayer, accountStub } from "../services/accounts.ts";
import { passwordsLayer } from "../services/passwords.ts";
import { signIn, signUp, type Credentials } from "../workflows/access.ts";
import { showSecondFactor } from "./mfa.ts";
import { clearBrowserSession, csrfMatches, readBrowserSession, sessionProblem, startBrowserSession, type AuthMethod } from "./browser-session.ts";
import { alreadyAnswered, approveAndRedirect, continueToConsent, signInAgain } from "./consent.ts";
import { messagePage, signInPage, signUpPage } from "./templates.ts";

export type { AuthMethod } from "./browser-session.ts";

const layers = (env: Env) => Layer.mergeAll(accountsLayer(env, parseAdminEmails(env.ADMIN_EMAILS)), passwordsLayer);

async function readCredentials(request: Request) {
  const form = await readForm(request);
  return { email: single(form, "email") ?? "", password: single(form, "password") ?? "", ticket: single(form, "request") ?? null };
}

const expired = () => html(messagePage("This page has expired", "Go back to your application and start signing in again."), 400);

export async function showSignUp(request: Request, env: Env): Promise<Response> {
  const ticket = new URL(request.url).searchParams.get("request");
  const authRequest = await readAuthRequest(env, ticket);
  if (ticket !== null && !authRequest) return expired();
  return html(signUpPage({ request: ticket, clientName: authRequest?.clientName ?? null, email: "", error: null, minLength: PASSWORD_MIN }));
}

/** The sign-in page again (linked from sign-up), for the same authorization request. */
export async function showSignIn(request: Request, env: Env): Promise<Response> {
  const ticket = new URL(request.url).searchParams.get("request");
  const authRequest = await readAuthRequest(env, ticket);
  if (!ticket || !authRequest) return expired();
  return html(signInPage({ request: ticket, clientName: authRequest.clientName, email: "", error: null }));
}

export async function submitSignUp(request: Request, env: Env): Promise<Response> {
  const form = await readCredentials(request);
  const authRequest = await readAuthRequest(env, form.ticket);
  if (form.ticket !== null && !authRequest) return expired();
  const input: Credentials = { email: form.email, password: form.password, clientId: authRequest?.clientId ?? null };
  const result = await Effect.runPromise(Effect.result(signUp(input, requestMeta(request)).pipe(Effect.provide(layers(env)))));
  if (result._tag === "Failure") {
    const error = result.failure;
    const message =
      error._tag === "EmailTaken" ? "An account with this email already exists. Sign in instead." : error.message;
    const status = error._tag === "EmailTaken" ? 409 : 400;
    const page = signUpPage({ request: form.ticket, clientName: authRequest?.clientName ?? null, email: form.email, error: message, minLength: PASSWORD_MIN });
    return html(page, status);
  }
  if (!authRequest) return html(messagePage("Account created", `You can now sign in to MCP clients as ${result.success.email}.`), 201);
  return completeSignIn(env, request, authRequest, result.success, ["pwd"]);
}

export async function submitSignIn(request: Request, env: Env): Promise<Response> {
  const form = await readCredentials(request);
  const authRequest = await readAuthRequest(env, form.ticket);
  if (!authRequest) return expired();
  const input: Credentials = { email: form.email, password: form.password, clientId: authRequest.clientId };
  const meta = requestMeta(request);
  const result = await Effect.runPromise(Effect.result(signIn(input, meta).pipe(Effect.provide(layers(env)))));
  // The password was right and the account has a second factor: ask for it (src/pages/mfa.ts).
  // meta.at (before the hash was read) bounds when the password was verified.
  if (result._tag === "Failure" && result.failure._tag === "SecondFactorRequired") return showSecondFactor(env, authRequest, result.failure.accountId, meta.at);
  if (result._tag === "Failure") {
    const page = signInPage({ request: form.ticket!, clientName: authRequest.clientName, email: form.email, error: "Wrong email or password. After several failed attempts, sign-in pauses for a few minutes." });
    return html(page, 401);
  }
  return completeSignIn(env, request, authRequest, result.success, ["pwd"]);
}

/**
 * The one place every sign-in path ends (password, sign-up, second factor): from here on the
 * person is authenticated with `amr`. A new browser session replaces any earlier one (a fresh
 * session id, so no CSRF token of an earlier session carries over), and the authorization
 * request continues to consent (or straight back when consent is remembered).
 */
export async function completeSignIn(
  env: Env,
  request: Request,
  authRequest: AuthRequest,
  account: AccountView,
  amr: ReadonlyArray<AuthMethod>,
): Promise<Response> {
  const { session, setCookie } = await startBrowserSession(env, account.accountId, amr);
  const status = await accountStub(env, account.accountId).resumeStatus(authRequest.clientId);
  if (!status) return expired();
  const response = await continueToConsent(env, request, authRequest, session, status);
  response.headers.append("Set-Cookie", setCookie);
  return response;
}

/**
 * The consent form's answer. Besides the signed single-use ticket it needs this browser's
 * session cookie and the CSRF token that pairs the two (browser-session.ts csrfToken), so a
 * ticket replayed from another browser, or a form posted by another site, changes nothing.
 */
export async function submitConsent(request: Request, env: Env): Promise<Response> {
  const form = await readForm(request);
  const ticket = single(form, "ticket") ?? "";
  const payload = ticket ? await verifyTicket(env, "consent", ticket) : null;
  if (!payload || typeof payload.accountId !== "string" || typeof payload.jti !== "string") return expired();
  const session = await readBrowserSession(env, request);
  if (!session || session.accountId !== payload.accountId || !(await csrfMatches(env, session, payload.jti, single(form, "csrf")))) {
    return notThisBrowser();
  }
  const authRequest = payload.request as AuthRequest;
  const decision = single(form, "decision");
  const account = accountStub(env, payload.accountId);
  // The page may have waited while the account changed (password, MFA turned on, lockout):
  // the browser session must still stand now (browser-session.ts sessionProblem), or nothing
  // is answered and the session ends. The account object checks again at approve.
  if (sessionProblem(session, await account.resumeStatus(authRequest.clientId), Date.now(), null) !== null) return signInAgain();
  const meta = requestMeta(request);
  const issuer = issuerOf(request);
  if (decision === "deny") {
    const denied = await account.deny({ ticketId: payload.jti, clientId: authRequest.clientId, scopes: authRequest.scopes }, meta);
    if (!denied.ok) return alreadyAnswered();
    return errorRedirect(issuer, authRequest.redirectUri, authRequest.state, "access_denied", "the user denied access");
  }
  if (decision !== "allow") return html(messagePage("Something went wrong", "Choose Allow or Deny."), 400);
  // RFC 6749 §4.1.2 + RFC 9207 §2: code, state and iss on the redirect.
  const amr = Array.isArray(payload.amr) ? (payload.amr as AuthMethod[]) : [];
  // A ticket signed before it carried authAt: its sign-in is the browser session it is bound to (CSRF).
  const authAt = typeof payload.authAt === "number" ? payload.authAt : session.authAt;
  return (await approveAndRedirect(env, request, authRequest, payload.accountId, payload.jti, { authAt, amr })) ?? alreadyAnswered();
}

const notThisBrowser = () =>
  html(
    messagePage(
      "This page belongs to another sign-in",
      "This consent page was not opened in this browser's current sign-in (or the browser did not keep Warden's cookie). Go back to your application and start again.",
    ),
    403,
  );

/**
 * "Not you? Use another account": ends this browser's session and, when the form carries a
 * still-valid consent ticket, shows the sign-in page for the same authorization request.
 */
export async function signOut(request: Request, env: Env): Promise<Response> {
  const form = await readForm(request);
  const ticket = single(form, "ticket");
  const payload = ticket ? await verifyTicket(env, "consent", ticket) : null;
  const authRequest = payload?.request as AuthRequest | undefined;
  const response = authRequest
    ? new Response(null, {
        status: 303,
        headers: { Location: `/login?request=${encodeURIComponent(await signTicket(env, "authorize", { request: authRequest }))}`, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer" },
      })
    : html(messagePage("Signed out", "You are signed out of Warden in this browser."));
  response.headers.append("Set-Cookie", clearBrowserSession);
  return response;
}
