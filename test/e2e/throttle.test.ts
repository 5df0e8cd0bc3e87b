// Per-client-IP throttling, black-box: a wrangler dev with tight limits answers the sign-in
// attempt past the burst with 429 and Retry-After, before doing any work, while earlier
// attempts get the ordinary 401 page.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser, fieldByAutocomplete, findForm } from "./browser.ts";
import { authorizationUrl, discover, pkce, registerPublicClient } from "./oauth-raw.ts";
import { startDevServer, type DevServer } from "./server.ts";

let server: DevServer;

beforeAll(async () => {
  server = await startDevServer({ name: "throttle", vars: { THROTTLE_BURST: "3", THROTTLE_PER_MINUTE: "2" } });
});
afterAll(async () => server?.stop());

describe("RFC 6585 §4 / RFC 9110 §10.2.3: too many sign-in attempts from one address", () => {
  it("answers the 4th rapid attempt with 429 and a Retry-After, the first three with 401", async () => {
    const d = await discover(server.mcpUrl);
    const redirectUri = "http://127.0.0.1:9/callback";
    const clientId = await registerPublicClient(d, redirectUri);
    const browser = new Browser();
    const signIn = await browser.get(authorizationUrl(d, { clientId, redirectUri, pkce: pkce(), state: "s" }));
    const form = findForm(signIn, (c) => c.autocomplete === "current-password", "sign-in form");
    const attempt = () =>
      browser.submit(form, {
        values: { [fieldByAutocomplete(form, "username").name]: "nobody@example.com", [fieldByAutocomplete(form, "current-password").name]: "not the password at all" },
      });
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 4; i++) {
      last = await attempt();
      statuses.push(last.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    const retryAfter = Number(last!.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(last!.body).toContain("Too many attempts");
  });
});
