// The form driver itself, against a throwaway Node HTTP server: it must submit forms
// the way a browser does, or the end-to-end tests prove nothing about real users.

import { createServer, type IncomingMessage, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser, completeAuthorization, findForm, formsOf } from "./browser.ts";

let server: Server;
let origin: string;
const posts: { path: string; body: URLSearchParams; cookie: string | undefined }[] = [];

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let data = "";
    req.on("data", (c: Buffer) => (data += c.toString()));
    req.on("end", () => resolve(data));
  });

const html = (body: string) => `<!doctype html><html><body>${body}</body></html>`;

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const body = new URLSearchParams(await readBody(req));
    if (req.method === "POST") posts.push({ path: url.pathname, body, cookie: req.headers.cookie });
    const send = (status: number, content: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "text/html; charset=utf-8", ...headers });
      res.end(content);
    };
    if (url.pathname === "/authorize") {
      return send(
        200,
        html(`<form method="post" action="login">
          <input name="email" autocomplete="username"><input type="password" name="password" autocomplete="current-password">
          <input type="hidden" name="request" value="r&amp;1"><input type="checkbox" name="remember" value="yes">
          <input type="checkbox" name="tos" checked><input name="off" value="x" disabled>
          <button>Sign in</button></form>
          <a id="signup-link" href="/signup?request=r%261">Create an account</a>`),
        { "set-cookie": "csrf=abc; Path=/; HttpOnly" },
      );
    }
    if (url.pathname === "/signup" && req.method === "GET") {
      return send(200, html(`<form method="post" action="/signup"><input name="email" autocomplete="email">
        <input name="password" type="password" autocomplete="new-password"><input type="hidden" name="request" value="${url.searchParams.get("request")}">
        <input type="submit" value="Create"></form>`));
    }
    if (url.pathname === "/login" || url.pathname === "/signup") {
      if (body.get("password") !== "correct horse battery") return send(401, html("<p>wrong</p>"));
      return send(302, "", { location: "/consent-page" });
    }
    if (url.pathname === "/consent-page") {
      return send(200, html(`<p>Allow Test Client at cb.example?</p><form method="post" action="/consent">
        <input type="hidden" name="request" value="r&amp;1"><input type="hidden" name="csrf" value="t">
        <button type="submit" name="decision" value="allow">Allow</button>
        <button type="submit" name="decision" value="deny">Deny</button></form>`));
    }
    if (url.pathname === "/consent") {
      return send(302, "", { location: `http://127.0.0.1:1/callback?code=${body.get("decision")}&state=s` });
    }
    send(404, "not found");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("browser.ts form driver", () => {
  it("collects successful controls like a browser (hidden, checked, not disabled, no buttons)", async () => {
    const page = await new Browser().get(`${origin}/authorize`);
    const [form] = formsOf(page);
    expect(form!.method).toBe("POST");
    expect(form!.action.href).toBe(`${origin}/login`);
    expect(form!.fields.map((f) => [f.name, f.value])).toEqual([
      ["email", ""],
      ["password", ""],
      ["request", "r&1"],
      ["tos", "on"],
    ]);
    expect(form!.submitters).toHaveLength(1);
    expect(findForm(page, (c) => c.autocomplete === "current-password", "sign-in")).toBeDefined();
  });

  it("signs in, follows the same-origin redirect, consents, and stops at the cross-origin redirect", async () => {
    posts.length = 0;
    const location = await completeAuthorization(`${origin}/authorize`, {
      mode: "signin",
      email: "a@example.com",
      password: "correct horse battery",
      decision: "allow",
    });
    expect(location.href).toBe("http://127.0.0.1:1/callback?code=allow&state=s");
    expect(posts.map((p) => p.path)).toEqual(["/login", "/consent"]);
    expect(Object.fromEntries(posts[0]!.body)).toEqual({ email: "a@example.com", password: "correct horse battery", request: "r&1", tos: "on" });
    expect(posts[0]!.cookie).toBe("csrf=abc");
    expect(Object.fromEntries(posts[1]!.body)).toEqual({ request: "r&1", csrf: "t", decision: "allow" });
  });

  it("signs up through the sign-up link and can deny", async () => {
    posts.length = 0;
    const location = await completeAuthorization(`${origin}/authorize`, {
      mode: "signup",
      email: "b@example.com",
      password: "correct horse battery",
      decision: "deny",
    });
    expect(location.searchParams.get("code")).toBe("deny");
    expect(Object.fromEntries(posts[0]!.body)).toEqual({ email: "b@example.com", password: "correct horse battery", request: "r&1" });
  });

  it("reports an unexpected status with the page text", async () => {
    await expect(
      completeAuthorization(`${origin}/authorize`, { mode: "signin", email: "a@example.com", password: "nope", decision: "allow" }),
    ).rejects.toThrow(/expected HTTP 200 .* got 401/);
  });
});
