// Email uniqueness through the Worker: the EmailIndexObject is the single arbiter, so of
// two racing sign-ups for one address exactly one creates an account.

import { listDurableObjectIds } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { call, form, freshEmail, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";

beforeAll(warmUp, WARM_UP_TIMEOUT_MS);

const PASSWORD = "plum-Quartz-7-harbour";

const signUp = (email: string) => call("/signup", form({ email, password: PASSWORD }));
const ownerOf = (email: string) => env.EMAILS.get(env.EMAILS.idFromName(email)).owner();

/** Account objects created since `before` whose registered email is `email`. */
async function accountsRegisteredFor(email: string, before: ReadonlySet<string>) {
  const created = (await listDurableObjectIds(env.ACCOUNTS)).filter((id) => !before.has(id.toString()));
  const views = await Promise.all(created.map((id) => env.ACCOUNTS.get(id).view()));
  return views.filter((v) => v?.email === email).map((v) => v!.accountId);
}

const existingAccounts = async () => new Set((await listDurableObjectIds(env.ACCOUNTS)).map((id) => id.toString()));

describe("email uniqueness: one address, one account", () => {
  it("two racing sign-ups for one email get exactly one 201 and one 409, and the index names one account", async () => {
    const email = freshEmail();
    const before = await existingAccounts();
    const responses = await Promise.all([signUp(email), signUp(email)]);
    await Promise.all(responses.map((r) => r.text()));
    expect(responses.map((r) => r.status).sort()).toEqual([201, 409]);

    const owner = await ownerOf(email);
    expect(owner).toMatch(/^[0-9a-f-]{36}$/);
    expect(await accountsRegisteredFor(email, before)).toEqual([owner]);
    const view = await env.ACCOUNTS.get(env.ACCOUNTS.idFromName(owner!)).view();
    expect(view).toMatchObject({ accountId: owner, email, roles: ["member"] });
  });

  it("sign-ups differing only in letter case and surrounding spaces race for the same address", async () => {
    const email = freshEmail();
    const before = await existingAccounts();
    const responses = await Promise.all([signUp(email.toUpperCase()), signUp(`  ${email} `)]);
    await Promise.all(responses.map((r) => r.text()));
    expect(responses.map((r) => r.status).sort()).toEqual([201, 409]);
    const owner = await ownerOf(email);
    expect(await accountsRegisteredFor(email, before)).toEqual([owner]);
  });

  it("a later sign-up for a taken email is a 409 page and leaves the owner unchanged", async () => {
    const email = freshEmail();
    expect((await signUp(email)).status).toBe(201);
    const owner = await ownerOf(email);
    const again = await signUp(email);
    expect(again.status).toBe(409);
    expect(again.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await again.text()).toContain("already exists");
    expect(await ownerOf(email)).toBe(owner);
    const log = await env.ACCOUNTS.get(env.ACCOUNTS.idFromName(owner!)).events(null, 100);
    expect(log.filter((e) => e.type === "AccountRegistered")).toHaveLength(1);
  });
});
