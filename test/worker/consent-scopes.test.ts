// The consent page says which requested scopes the person's roles cannot use: a scope is what an
// application may do on your behalf, never more than your roles allow (the tool gate checks both),
// so a member asked for audit:read is told it will not work rather than left to think it grants it.

import { parse } from "node-html-parser";
import { beforeAll, describe, expect, it } from "vitest";
import { call, form, freshEmail, registerClient, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";
import { authorizeAs, PASSWORD, requestTicketOf } from "./consent-flow.ts";

const REDIRECT = "https://app.example/callback";
let clientId = "";
beforeAll(async () => {
  await warmUp();
  clientId = await registerClient([REDIRECT]);
}, WARM_UP_TIMEOUT_MS);

/** The consent page's scope list after a new member signs up: scope → the item's text. */
async function scopeItemsAfterSignUp(scope: string) {
  const signIn = await authorizeAs(null, clientId, REDIRECT, { scope });
  const res = await call("/signup", form({ email: freshEmail(), password: PASSWORD, request: requestTicketOf(await signIn.text()) }));
  expect(res.status).toBe(200);
  const items = parse(await res.text()).querySelectorAll("li");
  return new Map(items.map((li) => [/\(([a-z:]+)\)/.exec(li.text)?.[1] ?? "", li.text]));
}

describe("RFC 6749 §3.3 scopes vs roles: the consent page flags what the person's roles cannot use", () => {
  it("a member asked for account:read and audit:read sees audit:read flagged and account:read not", async () => {
    const items = await scopeItemsAfterSignUp("account:read audit:read");
    expect(items.get("account:read")).not.toMatch(/your roles do not allow this/);
    expect(items.get("audit:read")).toMatch(/your roles do not allow this, so it will not work for now/);
  });

  it("every operator and admin scope is flagged for a member; the member's own scopes are not", async () => {
    const items = await scopeItemsAfterSignUp("account:read account:manage accounts:read clients:manage");
    expect([...items.entries()].filter(([, text]) => /your roles do not allow/.test(text)).map(([scope]) => scope).sort()).toEqual(["accounts:read", "clients:manage"]);
  });
});
