// Shared fixtures for the workerd integration tests. Storage is NOT isolated per test in
// @cloudflare/vitest-plugin 1.5 (a row written in one test is visible in the next), so
// every test works on fresh random account ids, emails and client ids.

import { env, exports } from "cloudflare:workers";
import { createHash, randomBytes } from "node:crypto";
import type { AccountObject, RequestMeta } from "../../src/objects/account-object.ts";
import type { CodeRequest } from "../../src/objects/account-tokens.ts";
import type { PasswordHash } from "../../src/password.ts";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { fold, type AccountState } from "../../domain/account.ts";
import type { StoredEvent } from "../../domain/events.ts";
import { toAuditRow, type AuditRow } from "../../projections/audit.ts";
import { emptyDirectoryRow, reduceDirectory, type DirectoryRow } from "../../projections/directory.ts";
import { targetOf } from "../../projections/sharding.ts";
import type { ProjectionShard } from "../../src/objects/projection-shard.ts";
import type { OutboxRow } from "../../src/store/outbox.ts";

export const ORIGIN = "https://warden.test";
export const RESOURCE = `${ORIGIN}/mcp`;

export const meta = (at = Date.now()): RequestMeta => ({
  requestId: crypto.randomUUID(),
  at,
  clientIp: "203.0.113.7",
  userAgent: "vitest",
});

export const freshEmail = () => `user-${crypto.randomUUID()}@example.com`;

/** A well-formed hash record with random bytes: the object stores it, it never checks it. */
export const randomPasswordHash = (): PasswordHash => ({
  scheme: "scrypt",
  n: 2 ** 15,
  r: 8,
  p: 3,
  salt: randomBytes(16).toString("base64"),
  hash: randomBytes(32).toString("base64"),
});

export const accountStub = (accountId: string) => env.ACCOUNTS.get(env.ACCOUNTS.idFromName(accountId));

export async function registeredAccount(options: { isAdmin?: boolean; password?: PasswordHash } = {}) {
  const accountId = crypto.randomUUID();
  const email = freshEmail();
  const stub = accountStub(accountId);
  const password = options.password ?? randomPasswordHash();
  const result = await stub.register({ accountId, email, password, isAdmin: options.isAdmin ?? false }, meta());
  if (!result.ok) throw new Error(`registration failed: ${result.message}`);
  return { accountId, email, stub, password, result };
}

export const pkcePair = () => {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
};

export const codeRequest = (overrides: Partial<CodeRequest> = {}): CodeRequest & { verifier: string } => {
  const { verifier, challenge } = pkcePair();
  return {
    ticketId: crypto.randomUUID(),
    clientId: `client-${crypto.randomUUID()}`,
    clientName: "Test client",
    redirectUri: "http://127.0.0.1:33418/callback",
    redirectHost: "127.0.0.1:33418",
    codeChallenge: challenge,
    scopes: ["account:read"],
    resource: RESOURCE,
    // Signed in just now (the account re-checks it against password changes and MFA).
    authAt: Date.now(),
    verifier,
    ...overrides,
  };
};

/** Calls the Worker's default export, as a client on the internet would. */
export const call = (path: string, init?: RequestInit) => exports.default.fetch(new Request(`${ORIGIN}${path}`, init));

export const form = (fields: Record<string, string> | Array<[string, string]>): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields).toString(),
});

export const jsonBody = (body: unknown, contentType = "application/json"): RequestInit => ({
  method: "POST",
  headers: { "content-type": contentType },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

/** Registers a public client through /register and returns its client_id. */
export async function registerClient(redirectUris: string[] = ["http://127.0.0.1:33418/callback"]): Promise<string> {
  const res = await call("/register", jsonBody({ client_name: "Integration test", redirect_uris: redirectUris }));
  if (res.status !== 201) throw new Error(`client registration failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { client_id: string }).client_id;
}

/**
 * The first request into the Worker loads its whole module graph (the MCP SDK included),
 * which can take several seconds in a cold run; do it in a hook with room, not in a test.
 */
export const WARM_UP_TIMEOUT_MS = 60_000;
export async function warmUp(): Promise<void> {
  await (await call("/")).text();
}

// ---- Event store and projection helpers (event-store, projections, expiry, migration, properties) ----

export type AccountStub = ReturnType<typeof accountStub>;

/** The whole log, oldest first, read through events() pages (newest first, `before` cursor). */
export async function allEvents(stub: AccountStub): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  let before: number | null = null;
  for (let guard = 0; guard < 10_000; guard++) {
    const page = (await stub.events(before, 100)) as StoredEvent[];
    if (page.length === 0) break;
    out.push(...page);
    before = page.at(-1)!.seq;
  }
  return out.reverse();
}

export const foldLog = (events: ReadonlyArray<StoredEvent>): AccountState => fold(events.map((e) => e.data));

/** The object's in-memory state and head (private fields, read for comparison only). */
export const liveState = (stub: AccountStub) =>
  runInDurableObject(stub, (instance: AccountObject) => {
    const log = (instance as unknown as { log: { state: AccountState; head: { seq: number; hash: string } } }).log;
    return { state: log.state, head: log.head };
  });

export const sql = <T extends Record<string, SqlStorageValue>>(stub: AccountStub, query: string, ...args: SqlStorageValue[]) =>
  runInDurableObject(stub, (_i: AccountObject, state) => state.storage.sql.exec<T>(query, ...args).toArray());

export type OutboxStatus = { head: number; targets: OutboxRow[] };
export const caughtUp = (s: OutboxStatus) => s.targets.length > 0 && s.targets.every((t) => t.delivered_seq === s.head);

/**
 * Drives the account's alarm until every outbox target has confirmed the head (bounded).
 * `skipBackoff` stands in for the clock passing a failed target's retry time. When no alarm
 * is pending (it fired on its own, or is re-armed in the future) the handler is run directly.
 */
export async function drainOutbox(stub: AccountStub, options: { skipBackoff?: boolean; rounds?: number } = {}): Promise<OutboxStatus> {
  for (let round = 0; round < (options.rounds ?? 30); round++) {
    const status = (await stub.outboxStatus()) as OutboxStatus;
    if (caughtUp(status)) return status;
    if (options.skipBackoff) await sql(stub, "UPDATE outbox SET next_attempt_at = 0");
    if (!(await runDurableObjectAlarm(stub))) await runInDurableObject(stub, (instance: AccountObject) => instance.alarm());
  }
  throw new Error(`outbox did not drain: ${JSON.stringify(await stub.outboxStatus())}`);
}

export const directoryShard = (accountId: string) => env.DIRECTORY.get(env.DIRECTORY.idFromName(targetOf("directory", accountId)));
export const auditShard = (accountId: string) => env.AUDIT.get(env.AUDIT.idFromName(targetOf("audit", accountId)));

/** The pure reducers applied to an account's full log: what the read models must hold. */
export const expectedDirectory = (accountId: string, events: ReadonlyArray<StoredEvent>): DirectoryRow =>
  events.reduce(reduceDirectory, emptyDirectoryRow(accountId));
export const expectedAudit = (accountId: string, events: ReadonlyArray<StoredEvent>): AuditRow[] =>
  events.map((e) => toAuditRow(accountId, e)).reverse();

/** Every audit row of one account from its shard, newest first, paged by the shard's cursor. */
export async function auditRowsOf(accountId: string): Promise<AuditRow[]> {
  const rows: AuditRow[] = [];
  let before: AuditRow | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    const page = (await auditShard(accountId).query({
      accountId, limit: 50, before: before && { at: before.at, accountId: before.accountId, seq: before.seq },
    })) as AuditRow[];
    rows.push(...page);
    if (page.length < 50) break;
    before = page.at(-1);
  }
  return rows;
}

/** Both read models of one account equal the reducers over its full log. */
export async function readModelsOf(stub: AccountStub, accountId: string) {
  const events = await allEvents(stub);
  return {
    events,
    directory: (await directoryShard(accountId).get(accountId)) as DirectoryRow | null,
    expectedDirectory: expectedDirectory(accountId, events),
    audit: await auditRowsOf(accountId),
    expectedAudit: expectedAudit(accountId, events),
  };
}

/** Issues a session through the real approve → redeemCode path; returns what /token would get. */
export async function issueSession(stub: AccountStub, overrides: Partial<CodeRequest> = {}) {
  const request = codeRequest(overrides);
  const approved = await stub.approve(request, meta());
  if (!approved.ok) throw new Error(approved.reason);
  const issued = await stub.redeemCode(
    { code: approved.value.code, clientId: request.clientId, redirectUri: request.redirectUri, challengeOfVerifier: request.codeChallenge },
    meta(),
  );
  if (!issued.ok) throw new Error(issued.reason);
  return issued.value;
}

/** Starts a session through the real approve → redeemCode path; returns its id. */
export const startSession = async (stub: AccountStub, overrides: Partial<CodeRequest> = {}) =>
  (await issueSession(stub, overrides)).sessionId;

type ShardStub = ReturnType<typeof directoryShard> | ReturnType<typeof auditShard>;
type Counted = { applyEvent: (source: string, event: StoredEvent) => void; applies?: Map<string, number> };

/**
 * Counts every applyEvent call on a live shard instance, per "source:seq", from now on (a
 * second call restarts the count: shards are shared between tests). Lost on eviction.
 */
export const countApplies = (shard: ShardStub) =>
  runInDurableObject(shard as unknown as DurableObjectStub<ProjectionShard>, (shardObject: ProjectionShard) => {
    const instance = shardObject as unknown as Counted;
    const wrapped = instance.applies !== undefined;
    instance.applies = new Map<string, number>();
    if (wrapped) return;
    const original = instance.applyEvent.bind(instance);
    instance.applyEvent = (source, event) => {
      const key = `${source}:${event.seq}`;
      instance.applies!.set(key, (instance.applies!.get(key) ?? 0) + 1);
      original(source, event);
    };
  });

/** How many times each seq of `source` was applied since countApplies (throws if the counter was lost). */
export const appliesOf = (shard: ShardStub, source: string) =>
  runInDurableObject(shard as unknown as DurableObjectStub<ProjectionShard>, (shardObject: ProjectionShard) => {
    const instance = shardObject as unknown as Counted;
    if (!instance.applies) throw new Error("apply counter lost (shard evicted?)");
    return [...instance.applies].filter(([k]) => k.startsWith(`${source}:`)).map(([k, n]) => [Number(k.split(":")[1]), n] as const).sort((a, b) => a[0] - b[0]);
  });

/** The shard stubs' failure-injection hook: the next `n` deliveries throw before applying. */
export const failNext = (shard: ShardStub, n: number) =>
  runInDurableObject(shard as unknown as DurableObjectStub<ProjectionShard>, (instance: ProjectionShard) => {
    instance.failNextDeliveries = n;
  });

// ---- Pages as a browser drives them (consent needs the browser-session cookie + CSRF token) ----

/** The cookies a response sets, as a browser would send them back (`name=value; ...`); cleared ones dropped. */
export const cookiesOf = (res: Response): string =>
  res.headers
    .getSetCookie()
    .map((line) => line.split(";")[0]!.trim())
    .filter((pair) => !pair.endsWith("="))
    .join("; ");

/** The consent form on a page (after sign-up or sign-in): its hidden fields and the cookie the response set. */
export async function consentFormOf(res: Response, cookie = cookiesOf(res)) {
  const page = await res.text();
  const ticket = /name="ticket" value="([^"]+)"/.exec(page)?.[1];
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
  if (!ticket || !csrf) throw new Error(`no consent form (status ${res.status}): ${page.slice(0, 300)}`);
  return { ticket, csrf, cookie };
}

export type ConsentForm = Awaited<ReturnType<typeof consentFormOf>>;

/** Posts the consent form from the browser that holds its cookie, as a same-origin form post. */
export const answerConsent = (consent: ConsentForm, decision: string, fields: Array<[string, string]> = []) =>
  call("/consent", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: consent.cookie },
    body: new URLSearchParams([["ticket", consent.ticket], ["csrf", consent.csrf], ["decision", decision], ...fields]).toString(),
    redirect: "manual",
  });
