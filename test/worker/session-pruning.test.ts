// Bounded account state inside workerd: a service account gets a fresh 10-minute session per
// client_credentials token (RFC 6749 §4.4), so its state must drop sessions once their expiry is
// recorded (ExpireDue, as the alarm runs it), in memory, in snapshots and after a wake-up; a
// token whose session left state is refused everywhere, cleanly. Time is advanced by running
// ExpireDue with a later `at` (the alarm runs it with Date.now()).

import { evictDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { fold, type AccountState } from "../../domain/account.ts";
import { SYSTEM, type StoredEvent } from "../../domain/events.ts";
import { decodeState, encodeState, STATE_VERSION } from "../../domain/snapshot.ts";
import { accountStub, allEvents, call, foldLog, form, liveState, meta, sql, WARM_UP_TIMEOUT_MS, warmUp, type AccountStub } from "./helpers.ts";
import { mcpPost, operatorSession, postBasic, registerViaTool, serviceClient, serviceToken, type RegisteredClient } from "./machine-clients.ts";

beforeAll(warmUp, WARM_UP_TIMEOUT_MS);

/** What the account's alarm does at `at` (it passes Date.now()): record every expiry due then. */
const expireDueAt = (stub: AccountStub, at: number) => stub.execute([{ command: { _tag: "ExpireDue", at }, actor: SYSTEM }], meta(at));
const sessionCount = async (stub: AccountStub) => (await liveState(stub)).state.sessions.size;
const startedIn = (events: StoredEvent[]) =>
  events.flatMap((e) => (e.data._tag === "SessionStarted" ? [{ sessionId: e.data.sessionId, expiresAt: e.data.expiresAt }] : []));
const listTools = (token: string) => mcpPost(token, { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} });
const introspect = async (caller: RegisteredClient, token: string) =>
  (await postBasic("/introspect", caller.client_id, caller.client_secret!, { token })).json() as Promise<Record<string, unknown>>;

describe("RFC 6749 §4.4: a service account's expired client_credentials sessions leave its state", () => {
  it("after waves of tokens whose expiry is recorded, state (live, snapshotted, woken) holds only the live sessions", async () => {
    const client = await serviceClient(await operatorSession());
    const stub = accountStub(client.service_account_id!);
    const WAVES = 4;
    const PER_WAVE = 8;
    const tokens: string[] = [];
    for (let wave = 0; wave < WAVES; wave++) {
      for (let i = 0; i < PER_WAVE; i++) tokens.push((await serviceToken(client)).access_token);
      // Before the expiry is recorded, the wave's sessions are all held and all live.
      expect(await sessionCount(stub)).toBe(PER_WAVE);
      const started = startedIn(await allEvents(stub)).slice(-PER_WAVE);
      expect((await stub.listSessions(Date.now())).length).toBe(PER_WAVE);
      const expired = await expireDueAt(stub, Math.max(...started.map((s) => s.expiresAt)));
      expect(expired.ok && expired.events.map((e) => e.data)).toEqual(started.map(({ sessionId }) => ({ _tag: "SessionExpired", sessionId })));
      expect(await sessionCount(stub)).toBe(0);
    }

    const events = await allEvents(stub);
    expect(startedIn(events)).toHaveLength(WAVES * PER_WAVE);
    expect((await liveState(stub)).state).toEqual(foldLog(events));
    // Every snapshot (SNAPSHOT_EVERY=10 here) is the fold of its prefix and holds no session
    // whose expiry the prefix recorded: never more than one wave.
    const snapshots = await sql<{ seq: number; state: string }>(stub, "SELECT seq, state FROM snapshots ORDER BY seq");
    expect(snapshots.length).toBeGreaterThan(0);
    for (const snap of snapshots) {
      const state = decodeState(snap.state);
      expect(state).toEqual(foldLog(events.slice(0, snap.seq)));
      expect(state.sessions.size).toBeLessThanOrEqual(PER_WAVE);
    }
    await evictDurableObject(stub);
    expect((await liveState(stub)).state.sessions.size).toBe(0);

    // A last token is live and alone in state; the forgotten ones are refused at /mcp.
    const live = (await serviceToken(client)).access_token;
    expect(await sessionCount(stub)).toBe(1);
    expect((await listTools(live)).status).toBe(200);
    const refused = await listTools(tokens[0]!);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("WWW-Authenticate")).toContain('error="invalid_token"');
  });

  it("a revoked session stays in state until its expiry is recorded, then leaves; revoking a forgotten token again is a quiet 200 (RFC 7009 §2.2)", async () => {
    const client = await serviceClient(await operatorSession());
    const stub = accountStub(client.service_account_id!);
    const { access_token } = await serviceToken(client);
    expect((await postBasic("/revoke", client.client_id, client.client_secret!, { token: access_token })).status).toBe(200);
    const [started] = startedIn(await allEvents(stub));
    expect(await stub.session(started!.sessionId, Date.now())).toEqual({ live: false, reason: "revoked" });
    expect(await sessionCount(stub)).toBe(1);

    await expireDueAt(stub, started!.expiresAt);
    expect(await sessionCount(stub)).toBe(0);
    const before = (await allEvents(stub)).length;
    expect((await postBasic("/revoke", client.client_id, client.client_secret!, { token: access_token })).status).toBe(200);
    expect(await allEvents(stub)).toHaveLength(before);
    expect((await expireDueAt(stub, started!.expiresAt + 60_000)).ok).toBe(true);
    expect(await allEvents(stub)).toHaveLength(before); // ExpireDue is idempotent: nothing left to record
  });
});

describe("a person's token whose session left state is refused cleanly", () => {
  it("RFC 6749 §6: refreshing it is invalid_grant (no-store, nothing appended); /mcp says the session is unknown; RFC 7662 introspection says inactive", async () => {
    const operator = await operatorSession();
    const resourceServer = await registerViaTool(operator, { client_name: "Billing API", grant_types: [] });
    const [started] = startedIn(await allEvents(operator.stub));
    await expireDueAt(operator.stub, started!.expiresAt);
    expect(await sessionCount(operator.stub)).toBe(0);
    const before = (await allEvents(operator.stub)).length;

    const refreshed = await call("/token", form({ grant_type: "refresh_token", client_id: operator.clientId, refresh_token: operator.refreshToken }));
    expect(refreshed.status).toBe(400);
    expect(refreshed.headers.get("Cache-Control")).toBe("no-store");
    expect(await refreshed.json()).toMatchObject({ error: "invalid_grant" });
    expect(await allEvents(operator.stub)).toHaveLength(before);

    const mcp = await listTools(operator.accessToken);
    expect(mcp.status).toBe(401);
    expect(await mcp.json()).toMatchObject({ error: "invalid_token", error_description: "the session is unknown" });
    expect(await introspect(resourceServer, operator.accessToken)).toEqual({ active: false });
    expect(await introspect(resourceServer, operator.refreshToken)).toEqual({ active: false });
  });
});

describe("STATE_VERSION 4: a snapshot from before pruning is ignored and rebuilt", () => {
  it("a v3 snapshot at the head holding an expired session is not read at wake; the state is the full replay", async () => {
    expect(STATE_VERSION).toBe(4);
    const client = await serviceClient(await operatorSession());
    const stub = accountStub(client.service_account_id!);
    await serviceToken(client);
    const [started] = startedIn(await allEvents(stub));
    await expireDueAt(stub, started!.expiresAt);
    const events = await allEvents(stub);
    const full = foldLog(events);
    expect(full.sessions.size).toBe(0);
    // What the old code would have snapshotted: the expired session kept, flagged.
    const old: AccountState = fold([events.find((e) => e.data._tag === "SessionStarted")!.data], full);
    const oldJson = encodeState(old).replace('"revoked":false', '"revoked":false,"expired":true');
    const head = events.at(-1)!;
    await sql(stub, "DELETE FROM snapshots");
    await sql(stub, "INSERT INTO snapshots (seq, state_version, state, hash, created_at) VALUES (?,?,?,?,?)", head.seq, 3, oldJson, head.hash, Date.now());
    await evictDurableObject(stub);
    expect((await liveState(stub)).state).toEqual(full);
    expect(await stub.session(started!.sessionId, started!.expiresAt - 1)).toEqual({ live: false, reason: "unknown" });
  });
});
