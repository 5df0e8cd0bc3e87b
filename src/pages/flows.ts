// The sign-up, sign-in and consent pages: form in, workflow run, page or redirect out.
// Between pages, state travels in signed, expiring tickets (src/keys.ts): the validated
// authorization request, then (after sign-in) the account it was approved for.

import { Effect, Layer } from "effect";
import { parseAdminEmails, PASSWORD_MIN } from "../../domain/credentials.ts";
import { redirectDestination } from "../../domain/oauth.ts";
import type { Env } from "../env.ts";
import { readForm, single } from "../http/body.ts";
import { html, issuerOf, redirect, requestMeta } from "../http/responses.ts";
import { signTicket, verifyTicket } from "../keys.ts";
import type { AccountView } from "../objects/account-object.ts";
import { errorRedirect, readAuthRequest, type AuthRequest } from "../oauth/authorize.ts";
import { accountsLayer, accountStub } from "../services/accounts.ts";
import { passwordsLayer } from "../services/passwords.ts";
import { signIn, signUp, type Credentials } from "../workflows/access.ts";
import { consentPage, messagePage, signInPage, signUpPage } from "./templates.ts";

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
  const result = await Effect.runPromise(Effect.result(signIn(input, requestMeta(request)).pipe(Effect.provide(layers(env)))));
  if (result._tag === "Failure") {
    const page = signInPage({ request: form.ticket!, clientName: authRequest.clientName, email: form.email, error: "Wrong email or password. After several failed attempts, sign-in pauses for a few minutes." });
    return html(page, 401);
  }
  return completeSignIn(env, request, authRequest, result.success, ["pwd"]);
}

/** How the person proved who they are (RFC 8176 values): "pwd", then "otp" after a second factor. */
export type AuthMethod = "pwd" | "otp";

/**
 * The one place every sign-in path ends (password, sign-up, second factor): from here on the
 * person is authenticated with `amr`, and the authorization request continues to consent.
 */
export async function completeSignIn(
  env: Env,
  _request: Request,
  authRequest: AuthRequest,
  account: AccountView,
  amr: ReadonlyArray<AuthMethod>,
): Promise<Response> {
  return showConsent(env, authRequest, account, amr);
}

async function showConsent(env: Env, authRequest: AuthRequest, account: AccountView, amr: ReadonlyArray<AuthMethod>): Promise<Response> {
  // The ticket binds this consent to one account and one authorization request; its id
  // makes it single-use (AccountObject refuses a second code for the same ticket).
  const ticket = await signTicket(env, "consent", { accountId: account.accountId, request: authRequest, amr });
  return html(
    consentPage({
      ticket,
      clientName: authRequest.clientName,
      clientId: authRequest.clientId,
      redirectHost: redirectDestination(authRequest.redirectUri),
      scopes: authRequest.scopes,
      email: account.email,
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

export async function submitConsent(request: Request, env: Env): Promise<Response> {
  const form = await readForm(request);
  const ticket = single(form, "ticket") ?? "";
  const payload = ticket ? await verifyTicket(env, "consent", ticket) : null;
  if (!payload || typeof payload.accountId !== "string" || typeof payload.jti !== "string") return expired();
  const authRequest = payload.request as AuthRequest;
  const decision = single(form, "decision");
  const account = accountStub(env, payload.accountId);
  const meta = requestMeta(request);
  const issuer = issuerOf(request);
  const alreadyAnswered = () =>
    html(messagePage("Already answered", "You already answered this request. Go back to your application and start again."), 400);
  if (decision === "deny") {
    const denied = await account.deny({ ticketId: payload.jti, clientId: authRequest.clientId, scopes: authRequest.scopes }, meta);
    if (!denied.ok) return alreadyAnswered();
    return errorRedirect(issuer, authRequest.redirectUri, authRequest.state, "access_denied", "the user denied access");
  }
  if (decision !== "allow") return html(messagePage("Something went wrong", "Choose Allow or Deny."), 400);
  const approved = await account.approve(
    {
      ticketId: payload.jti,
      clientId: authRequest.clientId,
      clientName: authRequest.clientName,
      redirectUri: authRequest.redirectUri,
      redirectHost: redirectDestination(authRequest.redirectUri),
      codeChallenge: authRequest.codeChallenge,
      scopes: authRequest.scopes,
      resource: authRequest.resource,
    },
    meta,
  );
  if (!approved.ok) return alreadyAnswered();
  // RFC 6749 §4.1.2 + RFC 9207 §2: code, state and iss on the redirect.
  const url = new URL(authRequest.redirectUri);
  url.searchParams.set("code", approved.value.code);
  if (authRequest.state !== null) url.searchParams.set("state", authRequest.state);
  url.searchParams.set("iss", issuer);
  return redirect(url.toString());
}
