// Property tests through the real AccountObject in workerd (fast-check): for random command
// sequences, the object decides exactly as the pure decider, folding the stored events equals
// the live state (also woken from a snapshot, and with every snapshot deleted), view() and
// session() answer as the fold says, and the read models equal the reducers once alarms drain.

import { evictDurableObject } from "cloudflare:test";
import { Result } from "effect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { activeRoles, decide, evolve, initialState, sessionProblem, type AccountState } from "../../domain/account.ts";
import type { AccountCommand } from "../../domain/commands.ts";
import type { Actor } from "../../domain/events.ts";
import { PERMISSIONS, permissionsOf, ROLES, sortRoles } from "../../domain/roles.ts";
import { accountStub, allEvents, drainOutbox, foldLog, liveState, meta, readModelsOf, sql, type AccountStub } from "./helpers.ts";

/**
 * Every time lies a day ahead of the real clock, on a 100 ms grid, so the alarms the
 * runtime fires on its own (ExpireDue at the real now) never find anything due: the only
 * expiries are the ones the sequence asks for.
 */
const BASE = Date.now() + 86_400_000;
const time = fc.integer({ min: 0, max: 10 }).map((t) => BASE + t * 100);
const span = fc.integer({ min: 0, max: 20 }).map((t) => t * 100);
const clientId = fc.constantFrom("c1", "c2");
const sessionId = fc.constantFrom("s1", "s2", "s3");
const scopes = fc.subarray(["read", "write"]);
const SESSION_IDS = ["s1", "s2", "s3"];

/** Commands with placeholders "me"/"other" for ids and emails, bound to fresh ones per run. */
const command: fc.Arbitrary<AccountCommand> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("RegisterAccount"), accountId: fc.constantFrom("me", "other"), email: fc.constantFrom("me", "other") }) },
  { weight: 3, arbitrary: fc.record({ _tag: fc.constant("GrantRole"), role: fc.constantFrom(...ROLES), reason: fc.constant("p"), expiresAt: fc.option(time.chain((t) => span.map((s) => t + s)), { nil: null }) }) },
  { weight: 2, arbitrary: fc.record({ _tag: fc.constant("ExpireDue"), at: time.chain((t) => span.map((s) => t + s)) }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("CloseAccount"), reason: fc.constant("p") }) },
  { weight: 2, arbitrary: fc.record({ _tag: fc.constant("RecordLogin"), passwordMatches: fc.boolean(), clientId: fc.option(clientId, { nil: null }), at: time }) },
  { weight: 4, arbitrary: fc.record({ _tag: fc.constant("GrantConsent"), clientId, clientName: fc.constant("C"), redirectHost: fc.constant("h"), scopes }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("DenyConsent"), clientId, scopes }) },
  { weight: 5, arbitrary: fc.record({ _tag: fc.constant("StartSession"), sessionId, clientId, scopes, resource: fc.constant("r"), at: time, expiresAt: span, amr: fc.constantFrom(["pwd"] as const, ["pwd", "otp"] as const) }).map((c) => ({ ...c, expiresAt: c.at + c.expiresAt })) },
  { weight: 3, arbitrary: fc.record({ _tag: fc.constant("RefreshSession"), sessionId, generation: fc.nat(2), at: time, expiresAt: span }).map((c) => ({ ...c, expiresAt: c.at + c.expiresAt })) },
  { weight: 2, arbitrary: fc.record({ _tag: fc.constant("RevokeSession"), sessionId, reason: fc.constantFrom("refresh_token_reused", "user_request", "authorization_code_reused") }) },
  { weight: 3, arbitrary: fc.record({ _tag: fc.constant("InvokeTool"), tool: fc.constant("t"), sessionId, permission: fc.constantFrom(...PERMISSIONS), requiredScope: fc.constantFrom("read", "write"), at: time }) },
).map((c) => ({ ...c })); // fc.record builds null-prototype objects, which RPC cannot serialize
const sequences = fc
  .tuple(fc.nat(7).map((n) => n > 0), fc.array(command, { minLength: 16, maxLength: 24, size: "max" }))
  .map(([registered, rest]) => (registered ? [{ _tag: "RegisterAccount", accountId: "me", email: "me" } as AccountCommand, ...rest] : rest));

const bind = (c: AccountCommand, ids: { me: string; other: string }): AccountCommand =>
  c._tag === "RegisterAccount" ? { ...c, accountId: ids[c.accountId as "me" | "other"], email: `${ids[c.email as "me" | "other"]}@example.com` } : c;

/** The pure decider over the same commands: each outcome and the events it appends. */
function model(commands: ReadonlyArray<AccountCommand>) {
  let state = initialState;
  const outcomes: Array<string | null> = [];
  const events = [];
  for (const c of commands) {
    const decision = decide(c, state);
    if (Result.isFailure(decision)) {
      outcomes.push(decision.failure._tag);
      continue;
    }
    outcomes.push(null);
    for (const e of decision.success) (state = evolve(state, e), events.push(e));
  }
  return { state, outcomes, events };
}

/** What AccountObject.view and .session must answer, from a folded state (same rules, local). */
function answers(state: AccountState, at: number) {
  const view = state.accountId === null || state.email === null ? null : (() => {
    const roles = activeRoles(state, at);
    return {
      accountId: state.accountId, email: state.email, roles: sortRoles(roles), permissions: [...permissionsOf(roles)].sort(), closed: state.closed,
      mfaEnabled: state.mfaEnabled, passwordChangedAt: state.passwordChangedAt,
    };
  })();
  const sessions = SESSION_IDS.map((id) => {
    const problem = sessionProblem(state, id, at);
    if (problem || !view) return { live: false, reason: problem ?? "unknown" };
    const s = state.sessions.get(id)!;
    return { live: true, account: view, scopes: s.scopes, clientId: s.clientId, amr: s.amr };
  });
  return { view, sessions };
}

/**
 * session(id, at).account is the view at the object's clock, not at `at` (see the example
 * test below, which fails on it); here only its identity is compared, so that the property
 * stays deterministic while that bug is open.
 */
const withoutRoles = <T extends { account?: unknown }>(s: T) =>
  s.account ? { ...s, account: (({ roles: _r, permissions: _p, ...identity }) => identity)(s.account as { roles: unknown; permissions: unknown }) } : s;

const observe = async (stub: AccountStub, at: number) => ({
  view: await stub.view(at),
  sessions: (await Promise.all(SESSION_IDS.map((id) => stub.session(id, at)))).map(withoutRoles),
});

const CHECK_TIMES = [BASE - 1, BASE + 500, BASE + 1_000, BASE + 2_100, BASE + 3_100];

async function expectFoldMatchesLive(stub: AccountStub) {
  const events = await allEvents(stub);
  const folded = foldLog(events);
  expect((await liveState(stub)).state).toEqual(folded);
  for (const at of CHECK_TIMES) {
    const expected = answers(folded, at);
    expect(await observe(stub, at)).toEqual({ ...expected, sessions: expected.sessions.map(withoutRoles) });
  }
  return { events, folded };
}

describe("random command sequences through the real AccountObject", () => {
  it("decides as the pure decider; folding the stored events equals the live state, also woken from a snapshot and from no snapshot", async () => {
    await fc.assert(
      fc.asyncProperty(sequences, async (raw) => {
        const ids = { me: crypto.randomUUID(), other: crypto.randomUUID() };
        const commands = raw.map((c) => bind(c, ids));
        const stub = accountStub(ids.me);
        const actor: Actor = { kind: "user", id: ids.me };
        const results = [];
        for (const c of commands) results.push(await stub.execute([{ command: c, actor }], meta()));

        const expected = model(commands);
        expect(results.map((r) => (r.ok ? null : r.error))).toEqual(expected.outcomes);
        const { events, folded } = await expectFoldMatchesLive(stub);
        expect(events.map((e) => e.data)).toEqual(expected.events);
        expect(folded).toEqual(expected.state);
        expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
        if (events.length === 0) return;

        await evictDurableObject(stub);
        await expectFoldMatchesLive(stub);
        if (events.length >= 10) expect((await sql(stub, "SELECT seq FROM snapshots")).length).toBeGreaterThan(0);
        await sql(stub, "DELETE FROM snapshots");
        await evictDurableObject(stub);
        await expectFoldMatchesLive(stub);
        expect(await stub.verifyChain()).toMatchObject({ ok: true, count: events.length });
      }),
      { numRuns: 15 },
    );
  }, 120_000);

  it("the directory and audit read models equal the reducers over the full log once alarms drain", async () => {
    await fc.assert(
      fc.asyncProperty(sequences, async (raw) => {
        const ids = { me: crypto.randomUUID(), other: crypto.randomUUID() };
        const stub = accountStub(ids.me);
        const actor: Actor = { kind: "user", id: ids.me };
        for (const c of raw.map((r) => bind(r, ids))) await stub.execute([{ command: c, actor }], meta());
        const state = (await liveState(stub)).state;
        if (state.accountId === null) return; // nothing registered: nothing to deliver
        await drainOutbox(stub);
        const m = await readModelsOf(stub, state.accountId);
        expect(m.directory).toEqual(m.expectedDirectory);
        expect(m.audit).toEqual(m.expectedAudit);
      }),
      { numRuns: 15 },
    );
  }, 120_000);

  it("session(id, at) reports the account's roles and permissions at `at`, like view(at) (example found by the property)", async () => {
    const ids = { me: crypto.randomUUID(), other: crypto.randomUUID() };
    const stub = accountStub(ids.me);
    const actor: Actor = { kind: "user", id: ids.me };
    const commands: AccountCommand[] = [
      { _tag: "RegisterAccount", accountId: ids.me, email: `${ids.me}@example.com` },
      { _tag: "GrantConsent", clientId: "c2", clientName: "C", redirectHost: "h", scopes: [] },
      { _tag: "GrantRole", role: "owner", reason: "p", expiresAt: BASE },
      { _tag: "StartSession", sessionId: "s1", clientId: "c2", scopes: [], resource: "r", at: BASE, expiresAt: BASE + 600, amr: ["pwd"] },
    ];
    for (const command of commands) expect((await stub.execute([{ command, actor }], meta())).ok).toBe(true);
    const at = BASE + 100; // the owner role has expired, the session is live
    expect((await stub.view(at))!.roles).toEqual(["member"]);
    const session = await stub.session("s1", at);
    expect(session).toMatchObject({ live: true });
    expect(session.live && session.account).toEqual(await stub.view(at));
  });
});
