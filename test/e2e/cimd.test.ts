// Client ID Metadata Documents end to end (draft-ietf-oauth-client-id-metadata-document-02,
// MCP authorization "Client ID Metadata Documents"): a real `wrangler dev` started with the
// development setting ALLOW_LOOPBACK_CIMD fetches documents from a loopback web server the
// test runs; a second `wrangler dev` without the setting refuses them. The official MCP SDK
// client runs the whole flow with a URL as its client_id.

import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
  UnauthorizedError as UnauthorizedErrorV2,
} from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { completeAuthorization, type Page } from "./browser.ts";
import { startDocumentServer, type DocumentServer } from "./cimd-documents.ts";
import { MemoryOAuthProvider, randomEmail, randomPassword, type ProviderV2 } from "./oauth-provider.ts";
import { discover, pkce } from "./oauth-raw.ts";
import { freePort, startDevServer, type DevServer } from "./server.ts";
import { identityOf, structured, type ToolResultLike } from "./tool-results.ts";

const clientName = "CIMD e2e client";
let server: DevServer;
let docs: DocumentServer;
let redirectUri: string;

beforeAll(async () => {
  redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
  docs = await startDocumentServer({ redirectUri, clientName });
  server = await startDevServer({ name: "cimd", vars: { ALLOW_LOOPBACK_CIMD: "true" } });
});

afterAll(async () => {
  await server?.stop();
  await docs?.stop();
});

/** The first leg of an authorization request, as a browser would open it. */
async function openAuthorize(origin: string, clientId: string) {
  const url = new URL(`${origin}/authorize`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: pkce().challenge,
    code_challenge_method: "S256",
    state: "s",
    scope: "account:read",
  }).toString();
  const res = await fetch(url, { redirect: "manual" });
  return { status: res.status, location: res.headers.get("location"), text: await res.text() };
}

async function expectRefused(path: string, problem: string | RegExp) {
  const res = await openAuthorize(server.origin, docs.url(path));
  expect(res.status, res.text.slice(0, 500)).toBe(400);
  expect(res.location, "never redirected (RFC 6749 §4.1.2.1)").toBeNull();
  expect(res.text).toContain("client metadata document");
  expect(res.text).toMatch(problem);
}

describe("MCP authorization: a client whose client_id is its metadata document URL", () => {
  it("signs up, consents, gets tokens, calls tools and refreshes through the official SDK client", async () => {
    const clientId = docs.url("/valid.json");
    const provider: ProviderV2 = new MemoryOAuthProvider({ redirectUrl: redirectUri, clientName: "unused: no registration" });
    provider.saveClientInformation({ client_id: clientId });
    const requests: string[] = [];
    const recording = (input: string | URL | Request, init?: RequestInit) => {
      requests.push(String(input instanceof Request ? input.url : input));
      return fetch(input, init);
    };
    const transport = () => new TransportV2(new URL(server.mcpUrl), { authProvider: provider, fetch: recording });

    const first = new ClientV2({ name: "warden-cimd-e2e", version: "0.0.0" });
    const firstTransport = transport();
    await expect(first.connect(firstTransport)).rejects.toBeInstanceOf(UnauthorizedErrorV2);
    await first.close();
    expect(provider.authorizationUrl?.searchParams.get("client_id")).toBe(clientId);

    let consent: Page | undefined;
    const location = await completeAuthorization(provider.authorizationUrl!, {
      mode: "signup",
      email: randomEmail("cimd"),
      password: randomPassword(),
      decision: "allow",
      observe: (step, page) => {
        if (step === "consent") consent = page;
      },
    });
    expect(consent!.document.text, "the consent page names the client from its document").toContain(clientName);
    await firstTransport.finishAuth(location.searchParams);

    const client = new ClientV2({ name: "warden-cimd-e2e", version: "0.0.0" });
    await client.connect(transport());
    const whoami = (await client.callTool({ name: "whoami", arguments: {} })) as ToolResultLike;
    const me = identityOf(whoami);
    expect(structured(whoami, "whoami").clientId).toBe(clientId);
    const sessions = structured((await client.callTool({ name: "list_sessions", arguments: {} })) as ToolResultLike, "list_sessions");
    expect(JSON.stringify(sessions)).toContain(clientName);

    provider.spoilAccessToken(); // the next call gets 401; the SDK refreshes with the URL client_id
    expect(identityOf((await client.callTool({ name: "whoami", arguments: {} })) as ToolResultLike).sessionId).toBe(me.sessionId);
    expect(requests.some((r) => r.endsWith("/register")), "no dynamic registration").toBe(false);
    expect(docs.hits("/valid.json"), "max-age=600: fetched once for authorize, token and refresh").toBe(1);
    await client.close();
  });

  it("the SDK picks CIMD over registration because the metadata advertises it, and an unreachable document stops at a 400 page", async () => {
    const metadataUrl = "https://client.example.com/warden-e2e/client.json";
    class CimdProvider extends MemoryOAuthProvider<Parameters<ProviderV2["saveTokens"]>[0], Parameters<ProviderV2["saveClientInformation"]>[0], object> {
      readonly clientMetadataUrl = metadataUrl;
    }
    const discovery = await discover(server.mcpUrl);
    expect(discovery.server.client_id_metadata_document_supported).toBe(true);
    const provider = new CimdProvider({ redirectUrl: redirectUri, clientName });
    const client = new ClientV2({ name: "warden-cimd-e2e", version: "0.0.0" });
    await expect(client.connect(new TransportV2(new URL(server.mcpUrl), { authProvider: provider as unknown as ProviderV2 }))).rejects.toBeInstanceOf(UnauthorizedErrorV2);
    await client.close();
    expect(provider.clientInformation()?.client_id).toBe(metadataUrl);
    expect(provider.authorizationUrl?.searchParams.get("client_id")).toBe(metadataUrl);
    // There is no internet here: the fetch fails, and §5.1 says abort the authorization request.
    const res = await fetch(provider.authorizationUrl!, { redirect: "manual" });
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    expect(await res.text()).toContain("could not be fetched");
  });
});

describe("draft §4 and §4.1: a document that cannot be used is refused at /authorize", () => {
  it("its client_id differs from the URL it was fetched from", () => expectRefused("/mismatch.json", "does not match the URL"));
  it("it asks for a shared-secret auth method", () => expectRefused("/secret.json", "needs a shared secret"));
  it("it is not served as JSON", () => expectRefused("/html.json", "text/html"));
  it("it is not valid JSON", () => expectRefused("/not-json.json", "not valid UTF-8 JSON"));
  it("the URL answers 404", () => expectRefused("/gone.json", "HTTP 404"));
});

describe("draft §5: redirects are never followed", () => {
  it("a 302 to a valid document is refused, and the target is not fetched", async () => {
    const before = docs.hits("/valid.json");
    await expectRefused("/redirect.json", "redirect (HTTP 302)");
    expect(docs.hits("/valid.json")).toBe(before);
  });
});

describe("draft §8.7: at most 5 KB is read", () => {
  it("a document whose Content-Length is over the limit", () => expectRefused("/large.json", "larger than 5120 bytes"));
  it("a chunked body with no Content-Length that never ends is cut at the limit, not read to the end", () =>
    expectRefused("/endless.json", "larger than 5120 bytes"));
});

describe("a slow document host cannot hold the authorization server", () => {
  it("no response headers within the time limit", () => expectRefused("/slow-headers.json", "did not arrive within 3 seconds"));
  it("a body that stops arriving", () => expectRefused("/slow-body.json", "did not arrive within 3 seconds"));
  it("a connection that breaks mid-body is a refusal, not a server error", () => expectRefused("/reset.json", /connection broke|not valid UTF-8 JSON/));
});

describe("draft §5.2: the cache follows the document's HTTP headers", () => {
  it("within max-age the document is not fetched again", async () => {
    for (let i = 0; i < 3; i++) expect((await openAuthorize(server.origin, docs.url("/cached.json"))).status).toBe(200);
    expect(docs.hits("/cached.json")).toBe(1);
  });

  it("no-store is fetched on every use", async () => {
    for (let i = 0; i < 3; i++) expect((await openAuthorize(server.origin, docs.url("/no-store.json"))).status).toBe(200);
    expect(docs.hits("/no-store.json")).toBe(3);
  });

  it("a refused document is not cached: the next request fetches again", async () => {
    const before = docs.hits("/mismatch.json");
    await expectRefused("/mismatch.json", "does not match");
    await expectRefused("/mismatch.json", "does not match");
    expect(docs.hits("/mismatch.json")).toBe(before + 2);
  });
});

describe("draft §8.6: loopback documents only with the explicit development setting", () => {
  it("a server started without ALLOW_LOOPBACK_CIMD refuses the same loopback document without fetching it", async () => {
    const strict = await startDevServer({ name: "cimd-strict" });
    try {
      const before = docs.hits("/valid.json");
      const res = await openAuthorize(strict.origin, docs.url("/valid.json"));
      expect(res.status).toBe(400);
      expect(res.location).toBeNull();
      expect(res.text).toContain("must use https");
      expect(docs.hits("/valid.json")).toBe(before);
    } finally {
      await strict.stop();
    }
  });
});
