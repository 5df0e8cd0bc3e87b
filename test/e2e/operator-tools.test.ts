// Black-box end-to-end for the operator and auditor tools (list_accounts, query_audit,
// projection_health): a real `wrangler dev` started with ADMIN_EMAILS, the official MCP SDK v1
// client, and the HTML pages driven like a browser. The SDK is asked for the wider scopes
// itself (auth() with `scope`, which it puts on both the registration and /authorize), and the
// consent page must list them. The global read models are fed by account alarms, so every read
// of them waits in a bounded poll.

import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { auth as authV1 } from "@modelcontextprotocol/sdk/client/auth.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { completeAuthorization, type Page } from "./browser.ts";
import { MemoryOAuthProvider, randomEmail, randomPassword, type ProviderV1 } from "./oauth-provider.ts";
import { authorizationUrl, discover, pkce, registerPublicClient, type Discovery } from "./oauth-raw.ts";
import { freePort, startDevServer, type DevServer } from "./server.ts";
import { eventsOf, eventsTable, identityOf, structured, type AccountEvent, type Identity, type ToolResultLike } from "./tool-results.ts";

const ALL_SCOPES = "account:read accounts:read audit:read";
const NO_AUDIT_SCOPES = "account:read accounts:read";
/** Documented shard counts (ARCHITECTURE.md, "Projections: delivery and sharding"). */
const DIRECTORY_SHARDS = 4;
const AUDIT_SHARDS = 8;
/** How long a read model may lag before a test gives up. */
const READ_MODEL_WAIT_MS = 15_000;

let server: DevServer;
let discovery: Discovery;
let redirectUri: string;

const owner = { email: randomEmail("owner"), password: randomPassword() };
const member = { email: randomEmail("member"), password: randomPassword() };
/** People who sign up but deny consent: accounts with no session. */
const extras = [1, 2, 3].map((i) => ({ email: randomEmail(`extra${i}`), password: randomPassword() }));

beforeAll(async () => {
  server = await startDevServer({ name: "operator-tools", vars: { ADMIN_EMAILS: owner.email } });
  redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
  discovery = await discover(server.mcpUrl);
});

afterAll(async () => {
  await Promise.allSettled(sessions.map((s) => s.client.close()));
  await server?.stop();
});

// ---------------------------------------------------------------------------------------------
// Sessions: one SDK v1 client per authorization

type Json = Record<string, unknown>;

interface Session {
  readonly client: ClientV1;
  readonly provider: ProviderV1;
  readonly consent: Page;
  readonly me: Identity;
  call(name: string, args?: Record<string, unknown>): Promise<ToolResultLike>;
}

const sessions: Session[] = [];

/** The SDK runs discovery, DCR and PKCE for `scope`; the person signs up or in and allows. */
async function authorize(label: string, mode: "signup" | "signin", who: { email: string; password: string }, scope: string): Promise<Session> {
  const clientName = `Warden e2e operator tools (${label})`;
  const provider: ProviderV1 = new MemoryOAuthProvider({ redirectUrl: redirectUri, clientName, scope });
  const serverUrl = new URL(server.mcpUrl);

  expect(await authV1(provider, { serverUrl, scope })).toBe("REDIRECT");
  const authUrl = provider.authorizationUrl;
  expect(authUrl, "the SDK asked to send the user to /authorize").toBeDefined();
  expect(authUrl!.searchParams.get("scope"), "the SDK requests the scopes it was given").toBe(scope);

  let consent: Page | undefined;
  const location = await completeAuthorization(authUrl!, {
    mode,
    email: who.email,
    password: who.password,
    decision: "allow",
    observe: (step, page) => {
      if (step === "consent") consent = page;
    },
  });
  expect(location.searchParams.get("error"), location.href).toBeNull();
  const code = location.searchParams.get("code");
  expect(code).toBeTruthy();
  expect(await authV1(provider, { serverUrl, authorizationCode: code! })).toBe("AUTHORIZED");

  const client = new ClientV1({ name: "warden-e2e-operator", version: "0.0.0" });
  await client.connect(new TransportV1(serverUrl, { authProvider: provider }));
  const call = async (name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args })) as ToolResultLike;
  const me = identityOf(await call("whoami"));
  expect(me.email).toBe(who.email);
  const session = { client, provider, consent: consent!, me, call };
  sessions.push(session);
  return session;
}

/** Signs up through the pages with a raw client, then denies consent: an account, no session. */
async function signUpAndDeny(who: { email: string; password: string }) {
  const clientId = await registerPublicClient(discovery, redirectUri);
  const url = authorizationUrl(discovery, { clientId, redirectUri, pkce: pkce(), state: "deny-me" });
  const location = await completeAuthorization(url, { mode: "signup", email: who.email, password: who.password, decision: "deny" });
  expect(location.searchParams.get("error")).toBe("access_denied");
}

/** The scopes a consent page lists, read from its "(scope)" hints. */
const consentScopes = (page: Page) =>
  ["account:read", "accounts:read", "audit:read", "account:manage"].filter((s) => page.document.text.includes(`(${s})`));

// ---------------------------------------------------------------------------------------------
// Reading results

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Calls `probe` until `done` holds or the deadline passes; the failure shows the last value. */
async function eventually<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = READ_MODEL_WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`${what}: not reached within ${timeoutMs} ms; last value:\n${JSON.stringify(value, null, 2).slice(0, 4000)}`);
    }
    await sleep(250);
  }
}

/** The text of a tool error; fails when the result is not one. */
function toolError(result: ToolResultLike, what: string): string {
  expect(result.isError, `${what} should be a tool error: ${JSON.stringify(result).slice(0, 500)}`).toBe(true);
  const blocks = Array.isArray(result.content) ? (result.content as Array<{ type?: string; text?: string }>) : [];
  return blocks.map((b) => (b.type === "text" ? (b.text ?? "") : "")).join("\n");
}

interface DirectoryEntry {
  readonly accountId: string;
  readonly email: string | null;
  readonly status: string;
  readonly roles: readonly string[];
  readonly liveSessions?: readonly string[];
  readonly liveSessionCount?: number;
  readonly raw: Json;
}

const liveCount = (row: DirectoryEntry) => row.liveSessionCount ?? row.liveSessions?.length;

function accountsOf(result: ToolResultLike): { accounts: DirectoryEntry[]; next: string | null } {
  const o = structured(result, "list_accounts");
  expect(Array.isArray(o.accounts), JSON.stringify(o).slice(0, 500)).toBe(true);
  const accounts = (o.accounts as Json[]).map((raw) => ({ ...(raw as unknown as Omit<DirectoryEntry, "raw">), raw }));
  expect(o.next === null || typeof o.next === "string", `next: ${String(o.next)}`).toBe(true);
  return { accounts, next: (o.next as string | null) ?? null };
}

interface AuditEntry {
  readonly accountId: string;
  readonly seq: number;
  readonly type: string;
  readonly at: number;
  readonly outcome: string | null;
  readonly actorId: string;
  readonly data: Json;
  readonly hash: string;
  readonly raw: Json;
}

function auditOf(result: ToolResultLike): { events: AuditEntry[]; next: string | null } {
  const o = structured(result, "query_audit");
  expect(Array.isArray(o.events), JSON.stringify(o).slice(0, 500)).toBe(true);
  const events = (o.events as Json[]).map((raw) => ({ ...(raw as unknown as Omit<AuditEntry, "raw">), raw }));
  expect(o.next === null || typeof o.next === "string", `next: ${String(o.next)}`).toBe(true);
  return { events, next: (o.next as string | null) ?? null };
}

const auditTable = (rows: readonly AuditEntry[]) =>
  rows
    .map((r) => `${r.accountId.slice(0, 8)} #${r.seq} ${new Date(r.at).toISOString()} ${r.type} ${r.outcome ?? ""} ${JSON.stringify(r.data).slice(0, 100)}`)
    .join("\n");

/** The audit order: newest first, ties by account id then seq, all descending. */
function expectAuditOrder(rows: readonly AuditEntry[]) {
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1]!;
    const b = rows[i]!;
    const descending = a.at > b.at || (a.at === b.at && (a.accountId > b.accountId || (a.accountId === b.accountId && a.seq > b.seq)));
    expect(descending, `rows ${i - 1} and ${i} out of order\n${auditTable(rows)}`).toBe(true);
  }
}

interface ShardReport {
  readonly target: string;
  readonly sources?: number;
  readonly eventsApplied?: number;
  readonly eventsBehind?: number;
  readonly oldestUndeliveredAt?: number | null;
  readonly error?: string;
}

function shardsOf(result: ToolResultLike): ShardReport[] {
  const o = structured(result, "projection_health");
  expect(Array.isArray(o.shards), JSON.stringify(o).slice(0, 500)).toBe(true);
  return o.shards as ShardReport[];
}

/** Pages with `limit` and `cursor` until `next` is null (bounded); returns every page. */
async function pageAll<T>(fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; next: string | null }>, maxPages = 50) {
  const pages: T[][] = [];
  let cursor: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const page = await fetchPage(cursor);
    pages.push(page.items);
    if (page.next === null) return pages;
    cursor = page.next;
  }
  throw new Error(`paging did not end within ${maxPages} pages`);
}

const toolInvoked = (events: readonly AccountEvent[], tool: string, outcome: string) =>
  events.filter((e) => e.type === "ToolInvoked" && (e.data as Json | undefined)?.tool === tool && (e.data as Json | undefined)?.outcome === outcome);

// ---------------------------------------------------------------------------------------------

describe("operator and auditor tools over the read models (SDK v1)", () => {
  let ownerFull: Session;
  let memberBasic: Session;
  let memberWide: Session;
  let ownerNoAudit: Session;
  let memberEventsSnapshot: readonly AccountEvent[] = [];

  it("an owner (ADMIN_EMAILS) signs up asking for every scope; the consent page lists them and the token carries them", async () => {
    ownerFull = await authorize("owner, all scopes", "signup", owner, ALL_SCOPES);
    expect(consentScopes(ownerFull.consent)).toEqual(["account:read", "accounts:read", "audit:read"]);
    expect(ownerFull.me.roles).toContain("owner");
    expect([...ownerFull.me.scopes].sort()).toEqual(ALL_SCOPES.split(" ").sort());
    const tools = (await ownerFull.client.listTools()).tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(["list_accounts", "query_audit", "projection_health"]));
  });

  it("a member whose token has only account:read is denied list_accounts, and the denial is an event of theirs", async () => {
    memberBasic = await authorize("member, account:read", "signup", member, "account:read");
    expect(consentScopes(memberBasic.consent)).toEqual(["account:read"]);
    expect(memberBasic.me.roles).toEqual(["member"]);
    expect(memberBasic.me.scopes).toEqual(["account:read"]);

    const reason = toolError(await memberBasic.call("list_accounts"), "list_accounts by a member");
    expect(reason).toMatch(/permission/i);

    const events = eventsOf(await memberBasic.call("my_events", { limit: 100 })).events;
    const denied = toolInvoked(events, "list_accounts", "denied");
    expect(denied, eventsTable(events)).toHaveLength(1);
    expect((denied[0]!.data as Json).sessionId).toBe(memberBasic.me.sessionId);
    expect(String((denied[0]!.data as Json).reason), eventsTable(events)).toMatch(/permission/i);
    expect(toolInvoked(events, "list_accounts", "allowed"), "never allowed").toHaveLength(0);
  });

  it("a member whose token carries accounts:read is still denied, for lack of the role's permission", async () => {
    memberWide = await authorize("member, accounts:read", "signin", member, NO_AUDIT_SCOPES);
    expect(consentScopes(memberWide.consent)).toEqual(["account:read", "accounts:read"]);
    expect([...memberWide.me.scopes].sort()).toEqual(NO_AUDIT_SCOPES.split(" ").sort());
    expect(memberWide.me.roles).toEqual(["member"]);

    const listReason = toolError(await memberWide.call("list_accounts"), "list_accounts by a member with accounts:read");
    expect(listReason).toMatch(/permission/i);
    expect(listReason).toContain("accounts.read");
    expect(listReason, "the scope is there: the refusal is about the role").not.toMatch(/scope/i);
    const healthReason = toolError(await memberWide.call("projection_health"), "projection_health by a member with accounts:read");
    expect(healthReason).toMatch(/permission/i);

    const events = eventsOf(await memberWide.call("my_events", { limit: 100 })).events;
    const denied = toolInvoked(events, "list_accounts", "denied").filter((e) => (e.data as Json).sessionId === memberWide.me.sessionId);
    expect(denied, eventsTable(events)).toHaveLength(1);
    expect(String((denied[0]!.data as Json).reason)).toContain("accounts.read");
    expect(toolInvoked(events, "projection_health", "denied"), eventsTable(events)).toHaveLength(1);
    memberEventsSnapshot = events;
  });

  it("an owner whose token lacks audit:read is refused query_audit with a 403 insufficient_scope challenge (RFC 6750 §3.1)", async () => {
    ownerNoAudit = await authorize("owner, no audit:read", "signin", owner, NO_AUDIT_SCOPES);
    expect(consentScopes(ownerNoAudit.consent)).toEqual(["account:read", "accounts:read"]);
    expect(ownerNoAudit.me.roles).toContain("owner");

    // The role allows it, so /mcp challenges before the tool runs (src/mcp/scope-challenge.ts).
    // SDK v1 refreshes (same scope), retries once, and gives up on the second 403; the step-up
    // through the pages is proven with SDK v2 in step-up.test.ts.
    await expect(ownerNoAudit.call("query_audit")).rejects.toThrow(/403/);
    // The same token may list accounts: it is the scope that is missing, not the role.
    expect(accountsOf(await ownerNoAudit.call("list_accounts")).accounts.length).toBeGreaterThanOrEqual(1);

    const events = eventsOf(await ownerNoAudit.call("my_events", { limit: 100 })).events;
    const denied = toolInvoked(events, "query_audit", "denied");
    expect(denied.length, eventsTable(events)).toBeGreaterThanOrEqual(1); // each challenged attempt is recorded
    expect(String((denied[0]!.data as Json).reason)).toContain("missing scope audit:read");
    expect(toolInvoked(events, "list_accounts", "allowed").length, eventsTable(events)).toBeGreaterThanOrEqual(1);
  });

  it("people who sign up but deny consent become accounts without sessions", async () => {
    for (const who of extras) await signUpAndDeny(who);
  });

  it("list_accounts shows every account with status, roles and live session count", async () => {
    const expected = new Map<string, { roles: string[]; live: number; id?: string }>([
      [owner.email, { roles: ["member", "owner"], live: 2, id: ownerFull.me.accountId }],
      [member.email, { roles: ["member"], live: 2, id: memberBasic.me.accountId }],
      ...extras.map((e): [string, { roles: string[]; live: number }] => [e.email, { roles: ["member"], live: 0 }]),
    ]);
    const matches = (rows: DirectoryEntry[]) =>
      rows.length === expected.size &&
      rows.every((r) => {
        const want = r.email === null ? undefined : expected.get(r.email);
        return want !== undefined && liveCount(r) === want.live && [...r.roles].sort().join() === want.roles.join();
      });
    const { accounts, next } = await eventually(
      "list_accounts shows all five accounts, their roles and live sessions",
      async () => accountsOf(await ownerFull.call("list_accounts", { limit: 100 })),
      (page) => matches(page.accounts),
    );
    expect(next).toBeNull();

    for (const row of accounts) {
      const want = expected.get(row.email!)!;
      expect(row.status, row.email!).toBe("active");
      if (want.id !== undefined) expect(row.accountId, row.email!).toBe(want.id);
      expect(typeof liveCount(row), `live session count of ${row.email}`).toBe("number");
    }
    const memberRow = accounts.find((r) => r.email === member.email)!;
    if (memberRow.liveSessions !== undefined) {
      expect([...memberRow.liveSessions].sort()).toEqual([memberBasic.me.sessionId, memberWide.me.sessionId].sort());
    }
    const ownerRow = accounts.find((r) => r.email === owner.email)!;
    if (ownerRow.liveSessions !== undefined) {
      expect([...ownerRow.liveSessions].sort()).toEqual([ownerFull.me.sessionId, ownerNoAudit.me.sessionId].sort());
    }
    // Ordered by email.
    const emails = accounts.map((r) => r.email!);
    expect(emails).toEqual([...emails].sort());

    // email_prefix narrows (case-insensitively) and status filters.
    const extrasOnly = accountsOf(await ownerFull.call("list_accounts", { email_prefix: "EXTRA", limit: 100 })).accounts;
    expect(extrasOnly.map((r) => r.email).sort()).toEqual(extras.map((e) => e.email).sort());
    expect(accountsOf(await ownerFull.call("list_accounts", { status: "closed" })).accounts).toEqual([]);
  });

  it("list_accounts pages with limit 1 and the cursor, visiting every account exactly once", async () => {
    const all = accountsOf(await ownerFull.call("list_accounts", { limit: 100 })).accounts;
    expect(all.length).toBe(2 + extras.length);
    const pages = await pageAll(async (cursor) => {
      const page = accountsOf(await ownerFull.call("list_accounts", cursor === undefined ? { limit: 1 } : { limit: 1, cursor }));
      expect(page.accounts.length).toBeLessThanOrEqual(1);
      return { items: page.accounts, next: page.next };
    });
    const visited = pages.flat().map((r) => r.accountId);
    expect(visited, "every account once, in the same order as one big page").toEqual(all.map((r) => r.accountId));
    expect(new Set(visited).size).toBe(visited.length);
    expect(pages.length, "one page per account, plus at most one empty last page").toBeLessThanOrEqual(all.length + 1);
  });

  it("query_audit by the member's account id returns that member's events, newest first, as recorded", async () => {
    expect(memberEventsSnapshot.length).toBeGreaterThan(0);
    const wanted = new Map(memberEventsSnapshot.map((e) => [e.seq!, e]));
    const { events } = await eventually(
      "query_audit has every member event seen in my_events",
      async () => auditOf(await ownerFull.call("query_audit", { account_id: memberBasic.me.accountId, limit: 100 })),
      (page) => [...wanted.keys()].every((seq) => page.events.some((r) => r.seq === seq)),
    );
    const table = auditTable(events);
    expect(events.every((r) => r.accountId === memberBasic.me.accountId), table).toBe(true);
    expectAuditOrder(events);
    const seqs = events.map((r) => r.seq);
    expect(seqs, "one account: seqs strictly descending and contiguous down to 1").toEqual(
      Array.from({ length: seqs.length }, (_, i) => seqs[0]! - i),
    );
    expect(seqs.at(-1)).toBe(1);
    for (const row of events) {
      const own = wanted.get(row.seq);
      if (own === undefined) continue;
      expect(row.type, `seq ${row.seq}`).toBe(own.type);
      expect(row.hash, `seq ${row.seq} hash`).toBe((own.raw as Json).hash);
    }
    expect(events.at(-1)!.type).toBe("AccountRegistered");

    // The same list, two at a time with the cursor.
    const pages = await pageAll(async (cursor) => {
      const args: Json = { account_id: memberBasic.me.accountId, limit: 2 };
      if (cursor !== undefined) args.cursor = cursor;
      const page = auditOf(await ownerFull.call("query_audit", args));
      return { items: page.events, next: page.next };
    });
    expect(pages.flat().map((r) => `${r.accountId}#${r.seq}`)).toEqual(events.map((r) => `${r.accountId}#${r.seq}`));

    // A time window: `from` after everything is empty; `to` before everything is empty.
    const after = new Date(events[0]!.at + 1).toISOString();
    expect(auditOf(await ownerFull.call("query_audit", { account_id: memberBasic.me.accountId, from: after })).events).toEqual([]);
    const before = new Date(events.at(-1)!.at).toISOString();
    expect(auditOf(await ownerFull.call("query_audit", { account_id: memberBasic.me.accountId, to: before })).events).toEqual([]);
  });

  it("query_audit by type ToolInvoked and outcome denied finds the member's denied calls and the owner's", async () => {
    const isMemberDenial = (r: AuditEntry) => r.accountId === memberBasic.me.accountId && r.data.tool === "list_accounts";
    const { events } = await eventually(
      "query_audit finds both denied list_accounts calls of the member and the owner's denied query_audit",
      async () => auditOf(await ownerFull.call("query_audit", { type: "ToolInvoked", outcome: "denied", limit: 100 })),
      (page) =>
        page.events.filter(isMemberDenial).length === 2 &&
        page.events.some((r) => r.accountId === ownerFull.me.accountId && r.data.tool === "query_audit"),
    );
    const table = auditTable(events);
    expect(events.every((r) => r.type === "ToolInvoked" && r.outcome === "denied" && r.data.outcome === "denied"), table).toBe(true);
    expectAuditOrder(events);
    const memberDenials = events.filter(isMemberDenial);
    expect(memberDenials.map((r) => r.data.sessionId).sort()).toEqual([memberBasic.me.sessionId, memberWide.me.sessionId].sort());
    for (const r of memberDenials) expect(String(r.data.reason), table).toMatch(/permission/i);
    const ownerDenial = events.find((r) => r.accountId === ownerFull.me.accountId)!;
    expect(ownerDenial.data.sessionId).toBe(ownerNoAudit.me.sessionId);
    expect(String(ownerDenial.data.reason)).toContain("audit:read");
    // Narrowed to one account, the filters combine.
    const only = auditOf(await ownerFull.call("query_audit", { account_id: memberBasic.me.accountId, type: "ToolInvoked", outcome: "denied" })).events;
    expect(only.map((r) => r.seq)).toEqual(events.filter((r) => r.accountId === memberBasic.me.accountId).map((r) => r.seq));
  });

  it("projection_health lists every shard and catches up to zero events behind", async () => {
    const targets = [
      ...Array.from({ length: DIRECTORY_SHARDS }, (_, i) => `directory/${i}`),
      ...Array.from({ length: AUDIT_SHARDS }, (_, i) => `audit/${i}`),
    ];
    const accounts = 2 + extras.length;
    const sum = (shards: ShardReport[], prefix: string, key: "sources" | "eventsApplied") =>
      shards.filter((s) => s.target.startsWith(prefix)).reduce((n, s) => n + (s[key] ?? 0), 0);
    // eventsBehind only counts what sources have reported, so also require the shards to have
    // applied at least every event the member and the owner had recorded before we asked.
    const head = async (s: Session) => eventsOf(await s.call("my_events", { limit: 1 })).events[0]!.seq!;
    const recorded = (await head(memberBasic)) + (await head(ownerFull));
    const shards = await eventually(
      `every shard reachable and caught up, every account a source of one directory and one audit shard, ≥ ${recorded} events applied`,
      async () => shardsOf(await ownerFull.call("projection_health")),
      (list) =>
        list.every((s) => s.error === undefined && s.eventsBehind === 0 && s.oldestUndeliveredAt === null) &&
        sum(list, "directory/", "sources") === accounts &&
        sum(list, "audit/", "sources") === accounts &&
        sum(list, "directory/", "eventsApplied") >= recorded &&
        sum(list, "audit/", "eventsApplied") >= recorded,
    );
    expect(shards.map((s) => s.target).sort()).toEqual([...targets].sort());
    for (const s of shards) {
      expect(typeof s.eventsApplied, s.target).toBe("number");
      expect(typeof s.sources, s.target).toBe("number");
    }
    // Shards that no account hashes to have nothing; the others report their sources.
    for (const s of shards) if ((s.sources ?? 0) === 0) expect(s.eventsApplied, s.target).toBe(0);
  });

  it("answers a bad cursor or a bad time with a tool error, not a protocol error or a 500", async () => {
    const badCursors = [
      "garbage!!", // not base64url
      "%%%",
      Buffer.from("not json").toString("base64url"),
      Buffer.from(JSON.stringify({ at: "yesterday", accountId: 1 })).toString("base64url"), // wrong shape
      Buffer.from("null").toString("base64url"),
    ];
    for (const cursor of badCursors) {
      const text = toolError(await ownerFull.call("query_audit", { cursor }), `query_audit cursor ${cursor}`);
      expect(text, cursor).toMatch(/cursor/i);
      toolError(await ownerFull.call("list_accounts", { cursor }), `list_accounts cursor ${cursor}`);
    }
    // A list_accounts cursor is not a query_audit cursor, and the other way round.
    const listCursor = accountsOf(await ownerFull.call("list_accounts", { limit: 1 })).next;
    expect(listCursor).not.toBeNull();
    toolError(await ownerFull.call("query_audit", { cursor: listCursor }), "query_audit with a list_accounts cursor");
    const auditCursor = auditOf(await ownerFull.call("query_audit", { limit: 1 })).next;
    expect(auditCursor).not.toBeNull();
    toolError(await ownerFull.call("list_accounts", { cursor: auditCursor }), "list_accounts with a query_audit cursor");

    for (const args of [{ from: "2026-13-45T00:00:00Z" }, { to: "2026-13-45T00:00:00Z" }, { from: "yesterday" }, { limit: 0 }, { limit: 101 }, { outcome: "maybe" }]) {
      toolError(await ownerFull.call("query_audit", args), `query_audit ${JSON.stringify(args)}`);
    }
    const text = toolError(await ownerFull.call("query_audit", { from: "2026-13-45T00:00:00Z" }), "query_audit impossible date");
    expect(text).toContain("2026-13-45");

    // The server is fine afterwards.
    expect(identityOf(await ownerFull.call("whoami")).accountId).toBe(ownerFull.me.accountId);
  });
});
