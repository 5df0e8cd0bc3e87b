// The browser session at /authorize and remembered consent per client and scope set: a second
// authorization from the same browser skips the password page, and skips the consent page only
// when every requested scope was granted before, the redirect is not loopback or an app scheme
// (per request: test/worker/consent-redirects.test.ts), and nothing
// (prompt, a revocation, a lockout, a closed account) asks for the person again.

import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { changePassword } from "../../src/workflows/second-factor.ts";
import { sessionProblem, type BrowserSession, type ResumeStatus } from "../../src/pages/browser-session.ts";
import { answerConsent, call, consentFormOf, form, meta, ORIGIN, pkcePair, registerClient, sql, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";
import { authorizeAs, codeOf, eventTypes, PASSWORD, signUpToConsent, type AuthorizeOptions } from "./consent-flow.ts";

const REDIRECT = "https://app.example/callback";
const LOCAL = "http://127.0.0.1:47011/callback";
let clientId = "";
let localClientId = "";
beforeAll(async () => {
  await warmUp();
  clientId = await registerClient([REDIRECT]);
  localClientId = await registerClient([LOCAL]);
}, WARM_UP_TIMEOUT_MS);

/** A person who signed up in this browser and allowed `scope` for the client once. */
async function grantedOnce(client = clientId, redirect = REDIRECT, scope = "account:read") {
  const person = await signUpToConsent(client, redirect, { scope });
  codeOf(await answerConsent(person.consent, "allow"));
  return { ...person, cookie: person.consent.cookie };
}

const again = (cookie: string | null, o: AuthorizeOptions = {}, client = clientId, redirect = REDIRECT) => authorizeAs(cookie, client, redirect, o);
const showsSignIn = async (res: Response) => {
  expect(res.status).toBe(200);
  expect(await res.text()).toContain('autocomplete="current-password"');
};
const showsConsent = async (res: Response) => {
  expect(res.status).toBe(200);
  const page = await res.clone().text();
  expect(page).toContain('name="decision" value="allow"');
  return page;
};

describe("OAuth 2.1 §4.1.2: remembered consent returns the code at once, with state and iss (RFC 9207 §2)", () => {
  it("a second authorization in the same browser redirects with a code that /token redeems", async () => {
    const { cookie } = await grantedOnce();
    const { verifier, challenge } = pkcePair();
    const location = codeOf(await again(cookie, { challenge, state: "second" }));
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get("state")).toBe("second");
    expect(location.searchParams.get("iss")).toBe(ORIGIN);
    const code = location.searchParams.get("code")!;
    const token = await call("/token", form({ grant_type: "authorization_code", client_id: clientId, code, redirect_uri: REDIRECT, code_verifier: verifier }));
    expect(token.status).toBe(200);
    expect(await token.json()).toMatchObject({ scope: "account:read" });
  });

  it("records exactly what a click on Allow records for the same covered request, and issues one code", async () => {
    const { cookie, stub } = await grantedOnce();
    const codes = async () => (await sql<{ ticket_id: string }>(stub, "SELECT ticket_id FROM auth_codes ORDER BY rowid")).map((r) => r.ticket_id);
    const start = await eventTypes(stub);
    const clicked = await consentFormOf(await again(cookie, { prompt: "consent" }), cookie);
    codeOf(await answerConsent(clicked, "allow"));
    const afterClick = await eventTypes(stub);
    codeOf(await again(cookie));
    const afterRemembered = await eventTypes(stub);
    expect(afterRemembered.slice(afterClick.length)).toEqual(afterClick.slice(start.length));
    const tickets = await codes();
    expect(tickets).toHaveLength(3);
    expect(tickets[2]).toMatch(/^remembered:/);
  });

  it("a narrower scope set than the one granted is remembered", async () => {
    const { cookie } = await grantedOnce(clientId, REDIRECT, "account:read account:manage");
    codeOf(await again(cookie, { scope: "account:read" }));
  });

  it("the same request replayed (same PKCE challenge) gets the consent page, not a second code", async () => {
    const { cookie } = await grantedOnce();
    const { challenge } = pkcePair();
    codeOf(await again(cookie, { challenge }));
    await showsConsent(await again(cookie, { challenge }));
  });
});

describe("consent is asked again when it must be", () => {
  it("widening the scope shows the page, marking only the scopes not granted before as new", async () => {
    const { cookie, stub } = await grantedOnce();
    const page = await showsConsent(await again(cookie, { scope: "account:read account:manage" }));
    expect(page).toMatch(/\(account:manage\)<\/span> <span class="new">new<\/span>/);
    expect(page).not.toMatch(/\(account:read\)<\/span> <span class="new">/);
    const form2 = await consentFormOf(await again(cookie, { scope: "account:read account:manage" }), cookie);
    codeOf(await answerConsent(form2, "allow"));
    expect((await eventTypes(stub)).filter((t) => t === "ConsentGranted")).toHaveLength(2);
    codeOf(await again(cookie, { scope: "account:read account:manage" }));
  });

  it("after the consent is revoked (ConsentRevoked) the page is shown again", async () => {
    const { cookie, stub } = await grantedOnce();
    expect((await stub.revokeConsent(clientId, meta())).ok).toBe(true);
    await showsConsent(await again(cookie));
  });

  it("prompt=consent shows the page although consent is remembered (OpenID Connect Core §3.1.2.1)", async () => {
    const { cookie } = await grantedOnce();
    await showsConsent(await again(cookie, { prompt: "consent" }));
  });

  it("a loopback-only client is asked every time, with the warning and the exact redirect URI", async () => {
    const { cookie } = await grantedOnce(localClientId, LOCAL);
    const page = await showsConsent(await again(cookie, {}, localClientId, LOCAL));
    expect(page).toContain('id="local-client-warning"');
    expect(page).toContain(`It receives your answer at <strong>${LOCAL}</strong>`);
    expect(page).toContain("Only allow this if you just started");
  });

  it("a client that is not loopback-only gets no loopback warning", async () => {
    const { consent } = await signUpToConsent(clientId, REDIRECT);
    const page = await showsConsent(await again(consent.cookie));
    expect(page).not.toContain("local-client-warning");
  });
});

describe("the browser session skips the password page only while it holds", () => {
  it("with no cookie, or a forged one, /authorize shows the sign-in page", async () => {
    await showsSignIn(await again(null));
    await showsSignIn(await again("__Host-warden-session=eyJhbGciOiJIUzI1NiJ9.e30.AAAA"));
  });

  it("prompt=login and max_age=0 ask for the password again, and keep the cookie", async () => {
    const { cookie } = await grantedOnce();
    for (const o of [{ prompt: "login" }, { maxAge: "0" }]) {
      const res = await again(cookie, o);
      expect(res.headers.getSetCookie()).toEqual([]);
      await showsSignIn(res);
    }
    codeOf(await again(cookie, { maxAge: "3600" }));
  });

  it("a closed account's session no longer holds: sign-in page, cookie cleared", async () => {
    const { cookie, stub } = await grantedOnce();
    expect((await stub.close({ reason: "test", actor: { kind: "system", id: "test" } }, meta())).ok).toBe(true);
    const res = await again(cookie);
    expect(res.headers.getSetCookie()[0]).toMatch(/^__Host-warden-session=; Max-Age=0/);
    await showsSignIn(res);
  });

  it("a password change after the sign-in ends the browser session (PasswordChanged)", async () => {
    const { cookie, accountId } = await grantedOnce();
    const changed = await changePassword(env, accountId, { current: PASSWORD, next: "another-Quartz-8-harbour" }, meta(Date.now() + 1000));
    expect(changed.ok).toBe(true);
    const res = await again(cookie);
    expect(res.headers.getSetCookie()[0]).toMatch(/^__Host-warden-session=; Max-Age=0/);
    await showsSignIn(res);
  });

  it("a locked account's session no longer holds while the lock runs", async () => {
    const { cookie, stub } = await grantedOnce();
    for (let i = 0; i < 5; i++) await stub.recordLogin(false, null, meta());
    await showsSignIn(await again(cookie));
  });
});

describe("OpenID Connect Core §3.1.2.1 prompt=none and max_age: errors go back with state and iss (RFC 9207 §2)", () => {
  it("prompt=none with a remembered consent returns the code", async () => {
    const { cookie } = await grantedOnce();
    expect(codeOf(await again(cookie, { prompt: "none" })).searchParams.get("code")).toBeTruthy();
  });

  it.each<[string, () => Promise<Response>, string]>([
    ["prompt=none without a session → login_required", () => again(null, { prompt: "none" }), "login_required"],
    ["prompt=none when consent is needed → consent_required", async () => again((await signUpToConsent(clientId, REDIRECT)).consent.cookie, { prompt: "none" }), "consent_required"],
    ["prompt=none for a loopback-only client → consent_required", async () => again((await grantedOnce(localClientId, LOCAL)).cookie, { prompt: "none" }, localClientId, LOCAL), "consent_required"],
    ["prompt=none combined with login → invalid_request", () => again(null, { prompt: "none login" }), "invalid_request"],
    ["a negative max_age → invalid_request", () => again(null, { maxAge: "-1" }), "invalid_request"],
  ])("%s", async (_name, load, error) => {
    const location = codeOf(await load());
    expect(location.searchParams.get("error")).toBe(error);
    expect(location.searchParams.get("state")).toBe("st-consent");
    expect(location.searchParams.get("iss")).toBe(ORIGIN);
    expect(location.searchParams.get("code")).toBeNull();
  });
});

describe("the session check against the account (src/pages/browser-session.ts sessionProblem)", () => {
  const session: BrowserSession = { accountId: "a1", sid: "s", authAt: 1_000_000, amr: ["pwd"] };
  const status = (account: Partial<ResumeStatus["account"]> = {}, locked = false): ResumeStatus => ({
    account: { accountId: "a1", email: "a@example.com", roles: ["member"], permissions: [], closed: false, ...account },
    locked,
    consented: [],
  });
  it.each<[string, ResumeStatus | null, string | null]>([
    ["an active account", status(), null],
    ["a password set before the sign-in", status({ passwordChangedAt: 999_000 }), null],
    ["a password changed after the sign-in", status({ passwordChangedAt: 1_000_001 }), "password_changed"],
    ["a second factor enrolled, the session signed in with a password only", status({ mfaEnabled: true }), "second_factor_missing"],
    ["a closed account", status({ closed: true }), "account_closed"],
    ["a running lockout", status({}, true), "account_locked"],
    ["another account's status", status({ accountId: "a2" }), "unknown_account"],
    ["no account", null, "unknown_account"],
  ])("%s → %s", (_name, s, problem) => {
    expect(sessionProblem(session, s, 1_000_500, null)).toBe(problem);
  });
  it("a session that presented a second factor holds for an account with MFA", () => {
    expect(sessionProblem({ ...session, amr: ["pwd", "otp"] }, status({ mfaEnabled: true }), 1_000_500, null)).toBeNull();
  });
});
