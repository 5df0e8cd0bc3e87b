// Drives /authorize → sign-up → consent the way a browser does (cookie kept, hidden fields
// posted back), for the consent-security and remembered-consent tests.

import { decodeJwt } from "jose";
import { expect } from "vitest";
import { accountStub, allEvents, call, consentFormOf, cookiesOf, form, freshEmail, pkcePair, type ConsentForm } from "./helpers.ts";

export const PASSWORD = "plum-Quartz-7-harbour";

export interface AuthorizeOptions {
  readonly scope?: string;
  readonly prompt?: string;
  readonly maxAge?: string;
  readonly challenge?: string;
  readonly state?: string;
}

export const authorizePath = (clientId: string, redirectUri: string, o: AuthorizeOptions = {}) => {
  const params = new URLSearchParams({
    response_type: "code", client_id: clientId, redirect_uri: redirectUri, state: o.state ?? "st-consent",
    code_challenge: o.challenge ?? pkcePair().challenge, code_challenge_method: "S256", scope: o.scope ?? "account:read",
  });
  if (o.prompt !== undefined) params.set("prompt", o.prompt);
  if (o.maxAge !== undefined) params.set("max_age", o.maxAge);
  return `/authorize?${params}`;
};

/** GET /authorize from a browser holding `cookie` (or none). */
export const authorizeAs = (cookie: string | null, clientId: string, redirectUri: string, o: AuthorizeOptions = {}) =>
  call(authorizePath(clientId, redirectUri, o), { headers: cookie ? { cookie } : {}, redirect: "manual" });

export const requestTicketOf = (page: string) => {
  const request = /name="request" value="([^"]+)"/.exec(page)?.[1];
  if (!request) throw new Error(`no sign-in form: ${page.slice(0, 300)}`);
  return request;
};

/** A new person signs up through the pages for this client; the consent page, its form and their account id. */
export async function signUpToConsent(clientId: string, redirectUri: string, o: AuthorizeOptions = {}) {
  const signIn = await authorizeAs(null, clientId, redirectUri, o);
  expect(signIn.status).toBe(200);
  const email = freshEmail();
  const res = await call("/signup", form({ email, password: PASSWORD, request: requestTicketOf(await signIn.text()) }));
  expect(res.status).toBe(200);
  const setCookie = res.headers.getSetCookie();
  const consent = await consentFormOf(res);
  const accountId = decodeJwt(consent.ticket).accountId as string;
  return { consent, accountId, email, setCookie, stub: accountStub(accountId) };
}

/** Signs in again (password form) for the next request from the same browser; the new consent form. */
export async function signInToConsent(email: string, signInPage: Response): Promise<ConsentForm> {
  const res = await call("/login", form({ email, password: PASSWORD, request: requestTicketOf(await signInPage.text()) }));
  expect(res.status).toBe(200);
  return consentFormOf(res);
}

export const eventTypes = async (stub: ReturnType<typeof accountStub>) => (await allEvents(stub)).map((e) => e.data._tag as string);

export const codeOf = (res: Response) => {
  expect(res.status).toBe(302);
  return new URL(res.headers.get("location")!);
};

export { cookiesOf };
