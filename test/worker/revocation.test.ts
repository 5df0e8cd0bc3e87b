// RFC 7009 token revocation at /revoke, through the Worker as a client would call it.

import { beforeAll, describe, expect, it } from "vitest";
import { call, codeRequest, form, meta, registerClient, registeredAccount, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";

beforeAll(warmUp, WARM_UP_TIMEOUT_MS);

/** A real session: consent through the account object, code exchanged at /token. */
async function tokensFor(clientId: string) {
  const { accountId, stub } = await registeredAccount();
  const request = codeRequest({ clientId });
  const approved = await stub.approve(request, meta());
  if (!approved.ok) throw new Error(approved.reason);
  const res = await call("/token", form({
    grant_type: "authorization_code", code: approved.value.code, client_id: clientId,
    redirect_uri: request.redirectUri, code_verifier: request.verifier,
  }));
  expect(res.status).toBe(200);
  const body = (await res.json()) as { access_token: string; refresh_token: string };
  const sessionId = (await stub.listSessions(Date.now()))[0]!.sessionId;
  return { accountId, stub, sessionId, ...body };
}

const revoke = (fields: Record<string, string>) => call("/revoke", form(fields));

describe("RFC 7009 §2.1: revoking a refresh token ends its session", () => {
  it("the session stops being live, the refresh token stops working, and SessionRevoked names the client", async () => {
    const clientId = await registerClient();
    const t = await tokensFor(clientId);
    const res = await revoke({ token: t.refresh_token, token_type_hint: "refresh_token", client_id: clientId });
    expect(res.status).toBe(200);
    expect(await t.stub.session(t.sessionId, Date.now())).toMatchObject({ live: false });
    const refreshed = await call("/token", form({ grant_type: "refresh_token", refresh_token: t.refresh_token, client_id: clientId }));
    expect(refreshed.status).toBe(400);
    const revoked = (await t.stub.events(null, 10)).find((e) => e.type === "SessionRevoked")!;
    expect(revoked.data).toMatchObject({ reason: "client_revocation" });
    expect(revoked.metadata.actor).toEqual({ kind: "client", id: clientId });
  });

  it("revoking an access token ends its session too (the JWT stops at the next MCP request)", async () => {
    const clientId = await registerClient();
    const t = await tokensFor(clientId);
    expect((await revoke({ token: t.access_token, client_id: clientId })).status).toBe(200);
    expect(await t.stub.session(t.sessionId, Date.now())).toMatchObject({ live: false });
    const mcp = await call("/mcp", {
      method: "POST",
      headers: { authorization: `Bearer ${t.access_token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
    });
    expect(mcp.status).toBe(401);
  });

  it("revoking twice is fine: 200 again, one SessionRevoked", async () => {
    const clientId = await registerClient();
    const t = await tokensFor(clientId);
    await revoke({ token: t.refresh_token, client_id: clientId });
    expect((await revoke({ token: t.refresh_token, client_id: clientId })).status).toBe(200);
    expect((await t.stub.events(null, 20)).filter((e) => e.type === "SessionRevoked")).toHaveLength(1);
  });
});

describe("RFC 7009 §2.2: unknown tokens get 200 and change nothing", () => {
  it.each([
    ["garbage", "not-a-token"],
    ["unknown refresh token of a real-looking account", `${crypto.randomUUID()}.${"x".repeat(43)}`],
    ["forged JWT", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."],
  ])("%s → 200", async (_name, token) => {
    const clientId = await registerClient();
    expect((await revoke({ token, client_id: clientId })).status).toBe(200);
  });
});

describe("RFC 7009 §2.1: a client may only revoke its own tokens", () => {
  it("another client's refresh token is refused (unauthorized_client) and the session lives on", async () => {
    const owner = await registerClient();
    const other = await registerClient();
    const t = await tokensFor(owner);
    const res = await revoke({ token: t.refresh_token, client_id: other });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "unauthorized_client" });
    expect(await t.stub.session(t.sessionId, Date.now())).toMatchObject({ live: true });
  });

  it("bad requests are standard errors: missing token, unknown client, bad hint, wrong content type", async () => {
    const clientId = await registerClient();
    const cases: Array<[RequestInit, number, string]> = [
      [form({ client_id: clientId }), 400, "invalid_request"],
      [form({ token: "x", client_id: "nobody" }), 401, "invalid_client"],
      [form({ token: "x", client_id: clientId, token_type_hint: "id_token" }), 400, "unsupported_token_type"],
      [{ method: "POST", headers: { "content-type": "application/json" }, body: "{}" }, 415, "invalid_request"],
    ];
    for (const [init, status, error] of cases) {
      const res = await call("/revoke", init);
      expect(res.status).toBe(status);
      expect(await res.json()).toMatchObject({ error });
      expect(res.headers.get("cache-control")).toContain("no-store");
    }
  });
});

