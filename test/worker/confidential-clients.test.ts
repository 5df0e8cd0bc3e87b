// Confidential clients (RFC 6749 §2.3.1, RFC 7591) and token introspection (RFC 7662).

import { beforeAll, describe, expect, it } from "vitest";
import { call, codeRequest, form, jsonBody, meta, registeredAccount, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";

beforeAll(warmUp, WARM_UP_TIMEOUT_MS);

const REDIRECT = "http://127.0.0.1:33418/callback";

async function registerConfidential(method: "client_secret_basic" | "client_secret_post") {
  const res = await call("/register", jsonBody({ client_name: "Compliance exporter", redirect_uris: [REDIRECT], token_endpoint_auth_method: method }));
  expect(res.status).toBe(201);
  const body = (await res.json()) as { client_id: string; client_secret: string; client_secret_expires_at: number; token_endpoint_auth_method: string };
  return body;
}

const basic = (id: string, secret: string) => `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;

/** A code for `clientId` through the account object, ready for /token. */
async function codeFor(clientId: string) {
  const { stub } = await registeredAccount();
  const request = codeRequest({ clientId, redirectUri: REDIRECT });
  const approved = await stub.approve(request, meta());
  if (!approved.ok) throw new Error(approved.reason);
  return { stub, code: approved.value.code, verifier: request.verifier };
}

const tokenWithBasic = (id: string, secret: string, fields: Record<string, string>) =>
  call("/token", { ...form(fields), headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(id, secret) } });

describe("RFC 7591 §3.2.1: a confidential client gets its secret once, at registration", () => {
  it("returns client_secret (never expiring) with the registered method; the secret is not stored in the clear", async () => {
    const client = await registerConfidential("client_secret_basic");
    expect(client.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(client.client_secret_expires_at).toBe(0);
    expect(client.token_endpoint_auth_method).toBe("client_secret_basic");
  });
});

describe("RFC 6749 §2.3.1: the token endpoint authenticates confidential clients", () => {
  it("client_secret_basic: the right secret exchanges the code; a wrong one is 401 with a Basic challenge and burns nothing", async () => {
    const client = await registerConfidential("client_secret_basic");
    const { code, verifier } = await codeFor(client.client_id);
    const fields = { grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier };
    const wrong = await tokenWithBasic(client.client_id, "not-the-secret", fields);
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Basic /);
    expect(await wrong.json()).toMatchObject({ error: "invalid_client" });
    const right = await tokenWithBasic(client.client_id, client.client_secret, fields);
    expect(right.status).toBe(200);
  });

  it("client_secret_post: the secret in the form works; the registered method is the only one accepted", async () => {
    const client = await registerConfidential("client_secret_post");
    const { code, verifier } = await codeFor(client.client_id);
    const fields = { grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: client.client_id };
    const viaBasic = await tokenWithBasic(client.client_id, client.client_secret, { ...fields });
    expect(viaBasic.status).toBe(401);
    const noSecret = await call("/token", form(fields));
    expect(noSecret.status).toBe(401);
    const both = await tokenWithBasic(client.client_id, client.client_secret, { ...fields, client_secret: client.client_secret });
    expect(both.status).toBe(400);
    expect(await both.json()).toMatchObject({ error: "invalid_request" });
    const right = await call("/token", form({ ...fields, client_secret: client.client_secret }));
    expect(right.status).toBe(200);
  });
});

describe("RFC 7662: introspection for confidential clients", () => {
  async function issued() {
    const client = await registerConfidential("client_secret_basic");
    const { stub, code, verifier } = await codeFor(client.client_id);
    const res = await tokenWithBasic(client.client_id, client.client_secret, { grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier });
    const tokens = (await res.json()) as { access_token: string; refresh_token: string };
    const introspect = async (token: string, id = client.client_id, secret = client.client_secret) =>
      call("/introspect", { ...form({ token }), headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(id, secret) } });
    return { client, stub, tokens, introspect };
  }

  it("an access token and a refresh token of a live session are active, with who and what they stand for", async () => {
    const { client, tokens, introspect } = await issued();
    const access = await (await introspect(tokens.access_token)).json();
    expect(access).toMatchObject({ active: true, token_type: "Bearer", client_id: client.client_id, scope: "account:read" });
    const refresh = await (await introspect(tokens.refresh_token)).json();
    expect(refresh).toMatchObject({ active: true, token_type: "refresh_token", client_id: client.client_id });
  });

  it("after the session is revoked both tokens are inactive at once, though the JWT has not expired", async () => {
    const { stub, tokens, introspect } = await issued();
    const sessionId = (await stub.listSessions(Date.now()))[0]!.sessionId;
    await stub.revokeSession(sessionId, meta());
    expect(await (await introspect(tokens.access_token)).json()).toEqual({ active: false });
    expect(await (await introspect(tokens.refresh_token)).json()).toEqual({ active: false });
  });

  it("another client's token, unknown tokens and garbage are simply inactive", async () => {
    const mine = await issued();
    const other = await registerConfidential("client_secret_basic");
    expect(await (await mine.introspect(mine.tokens.access_token, other.client_id, other.client_secret)).json()).toEqual({ active: false });
    for (const token of ["garbage", `${crypto.randomUUID()}.xyz`, "a.b.c"]) expect(await (await mine.introspect(token)).json()).toEqual({ active: false });
  });

  it("refuses public clients and bad credentials", async () => {
    const { tokens } = await issued();
    const pub = await call("/register", jsonBody({ client_name: "public", redirect_uris: [REDIRECT] }));
    const publicId = ((await pub.json()) as { client_id: string }).client_id;
    expect((await call("/introspect", form({ token: tokens.access_token, client_id: publicId }))).status).toBe(401);
    const wrong = await call("/introspect", { ...form({ token: tokens.access_token }), headers: { "content-type": "application/x-www-form-urlencoded", authorization: "Basic bm9ib2R5Om5vdGhpbmc=" } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Basic /);
  });
});
