// Remembered consent is decided by the redirect_uri presented in each request, not by what else
// the client registered: a client with both an https and a loopback redirect gets codes without
// the page only through its https address. Through loopback (any port, RFC 8252 §7.3) or a
// private-use scheme the page is shown every time with the warning, because any program on the
// machine can listen there or claim the scheme and send the client's id (RFC 8252 §8.6; MCP
// authorization spec, security considerations).

import { beforeAll, describe, expect, it } from "vitest";
import { answerConsent, consentFormOf, pkcePair, registerClient, sql, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";
import { authorizeAs, codeOf, eventTypes, signUpToConsent, type AuthorizeOptions } from "./consent-flow.ts";

const WEB = "https://client.example/cb";
const LOOPBACK = "http://127.0.0.1:5555/cb";
const APP = "com.example.app:/cb";
let mixed = "";
let app = "";
let webAndApp = "";
beforeAll(async () => {
  await warmUp();
  mixed = await registerClient([WEB, LOOPBACK]);
  app = await registerClient([APP]);
  webAndApp = await registerClient([WEB, APP]);
}, WARM_UP_TIMEOUT_MS);

/** A person who signed up in this browser and allowed `client` once through `redirect`. */
async function grantedOnce(client: string, redirect: string) {
  const person = await signUpToConsent(client, redirect);
  codeOf(await answerConsent(person.consent, "allow"));
  return { ...person, cookie: person.consent.cookie };
}

const consentPageOf = async (res: Response) => {
  expect(res.status).toBe(200);
  expect(res.headers.get("location")).toBeNull();
  const page = await res.text();
  expect(page).toContain('name="decision" value="allow"');
  return page;
};

/** The page asks, warns, names the exact redirect URI, and nothing was recorded for asking. */
async function expectAskedWithWarning(res: Response, redirect: string, stub: Parameters<typeof eventTypes>[0], before: ReadonlyArray<string>) {
  const page = await consentPageOf(res);
  expect(page).toContain('id="local-client-warning"');
  expect(page).toContain(`It receives your answer at <strong>${redirect}</strong>`);
  expect(page).toContain(`your answer will be sent to <strong>${redirect}</strong>`);
  expect(await eventTypes(stub)).toEqual(before);
  return page;
}

describe("OAuth 2.1 §4.1.2: a client with https and loopback redirects is remembered through its https address", () => {
  it("after one consent, the https redirect gets a code without the page", async () => {
    const { cookie } = await grantedOnce(mixed, WEB);
    const location = codeOf(await authorizeAs(cookie, mixed, WEB));
    expect(`${location.origin}${location.pathname}`).toBe(WEB);
    expect(location.searchParams.get("code")).toBeTruthy();
  });

  it("the remembered code records exactly what a click on Allow records, nothing more", async () => {
    const { cookie, stub } = await grantedOnce(mixed, WEB);
    const start = await eventTypes(stub);
    codeOf(await answerConsent(await consentFormOf(await authorizeAs(cookie, mixed, WEB, { prompt: "consent" }), cookie), "allow"));
    const afterClick = await eventTypes(stub);
    codeOf(await authorizeAs(cookie, mixed, WEB));
    expect((await eventTypes(stub)).slice(afterClick.length)).toEqual(afterClick.slice(start.length));
    const tickets = (await sql<{ ticket_id: string }>(stub, "SELECT ticket_id FROM auth_codes ORDER BY rowid")).map((r) => r.ticket_id);
    expect(tickets).toHaveLength(3);
    expect(tickets[2]).toMatch(/^remembered:/);
  });

  it("its https consent page shows no loopback warning", async () => {
    const { consent } = await signUpToConsent(mixed, WEB);
    const page = await consentPageOf(await authorizeAs(consent.cookie, mixed, WEB));
    expect(page).not.toContain("local-client-warning");
  });
});

describe("RFC 8252 §8.6: through a loopback redirect (any port, §7.3) the same client is asked every time, with the warning", () => {
  it.each(["http://127.0.0.1:7777/cb", LOOPBACK, "http://127.0.0.1/cb"])("%s after consent via https: the page, no code, nothing appended", async (redirect) => {
    const { cookie, stub } = await grantedOnce(mixed, WEB);
    await expectAskedWithWarning(await authorizeAs(cookie, mixed, redirect), redirect, stub, await eventTypes(stub));
  });

  it("the first consent page through loopback already warns", async () => {
    const { consent, stub } = await signUpToConsent(mixed, "http://127.0.0.1:7777/cb");
    const page = await expectAskedWithWarning(await authorizeAs(consent.cookie, mixed, "http://127.0.0.1:7777/cb"), "http://127.0.0.1:7777/cb", stub, await eventTypes(stub));
    expect(page).toContain("Only allow this if you just started");
    expect(page).toContain("on this computer");
  });

  it("allowing through loopback answers that request only: the next loopback request is asked again", async () => {
    const { cookie, stub } = await grantedOnce(mixed, "http://127.0.0.1:7777/cb");
    await expectAskedWithWarning(await authorizeAs(cookie, mixed, "http://127.0.0.1:7778/cb"), "http://127.0.0.1:7778/cb", stub, await eventTypes(stub));
  });

  it("prompt=none through loopback never gets a code, only consent_required (OpenID Connect Core §3.1.2.6)", async () => {
    const { cookie, stub } = await grantedOnce(mixed, WEB);
    const before = await eventTypes(stub);
    const location = codeOf(await authorizeAs(cookie, mixed, "http://127.0.0.1:7777/cb", { prompt: "none" } satisfies AuthorizeOptions));
    expect(location.origin).toBe("http://127.0.0.1:7777");
    expect(location.searchParams.get("error")).toBe("consent_required");
    expect(location.searchParams.get("code")).toBeNull();
    expect(await eventTypes(stub)).toEqual(before);
  });
});

describe("RFC 8252 §7.1 / §8.6: a private-use URI scheme redirect is asked every time, with the app warning", () => {
  it("an app-scheme-only client is asked again after consent, its page naming the whole URI", async () => {
    const { cookie, stub } = await grantedOnce(app, APP);
    const page = await expectAskedWithWarning(await authorizeAs(cookie, app, APP, { challenge: pkcePair().challenge }), APP, stub, await eventTypes(stub));
    expect(page).toContain("in an app on this device");
    expect(page).toContain("Any app installed on your device can claim that address");
  });

  it("a client with https and an app scheme: remembered through https, asked through the app scheme", async () => {
    const { cookie, stub } = await grantedOnce(webAndApp, WEB);
    codeOf(await authorizeAs(cookie, webAndApp, WEB));
    await expectAskedWithWarning(await authorizeAs(cookie, webAndApp, APP), APP, stub, await eventTypes(stub));
  });
});
