// An ended session leaves the account's state once its expiry is recorded (SessionExpired, by
// the alarm's ExpireDue), so state, snapshots and the wake-up fold stay bounded: a service
// account starts a 10-minute session per client_credentials token (RFC 6749 §4.4), ~52k a
// year. Only events decide what is dropped (evolve has no clock), so replay and snapshots agree.

import { Result } from "effect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decide, evolve, fold, nextDueAt, sessionProblem, type AccountState } from "../../domain/account.ts";
import type { AccountCommand } from "../../domain/commands.ts";
import type { AccountEvent } from "../../domain/events.ts";
import { commands, run } from "./arbitraries.ts";
import {
  CLIENT, EXPIRES, NOW, RESOURCE, SCOPES, SESSION, consented, expireDue, invoke, refresh, registered, sessionStarted,
  startSession, withLiveSession,
} from "./fixtures.ts";
import { given } from "./given-when-then.ts";

const sessionExpired: AccountEvent = { _tag: "SessionExpired", sessionId: SESSION };
const revoked: AccountEvent = { _tag: "SessionRevoked", sessionId: SESSION, reason: "user_request" };
const revokeSession: AccountCommand = { _tag: "RevokeSession", sessionId: SESSION, reason: "user_request" };
const gone = [...withLiveSession, sessionExpired];

describe("an expired session leaves state", () => {
  it("a recorded SessionExpired removes the session; the others stay", () => {
    const state = given(...withLiveSession, sessionStarted(SCOPES, "s-2"), sessionExpired).state;
    expect([...state.sessions.keys()]).toEqual(["s-2"]);
  });
  it("a revoked session stays (its tokens are refused as revoked) until its expiry is recorded, then leaves", () => {
    const kept = given(...withLiveSession, revoked).state;
    expect(sessionProblem(kept, SESSION, NOW)).toBe("revoked");
    expect(given(...withLiveSession, revoked).when(expireDue(EXPIRES)).decision).toEqual(Result.succeed([sessionExpired]));
    expect(given(...withLiveSession, revoked, sessionExpired).state.sessions.size).toBe(0);
  });
  it("a session past expiresAt whose expiry is not recorded yet stays, and is refused as expired", () => {
    const state = given(...withLiveSession).state;
    expect(state.sessions.has(SESSION)).toBe(true);
    expect(sessionProblem(state, SESSION, EXPIRES)).toBe("expired");
  });
  it("a SessionExpired (or any session event) naming a session not in state changes nothing", () => {
    const state = given(...gone).state;
    for (const event of [
      sessionExpired,
      revoked,
      { _tag: "TokenRefreshed", sessionId: SESSION, generation: 1, expiresAt: EXPIRES + 1 } as const,
    ] satisfies AccountEvent[]) expect(evolve(state, event)).toBe(state);
  });
});

describe("commands naming a session that left state", () => {
  it("RefreshSession is refused: the session is unknown (RFC 6749 §6 invalid_grant at the edge)", () =>
    expect(given(...gone).when(refresh(0)).thenFails("SessionNotLive").reason).toBe("unknown"));
  it("RevokeSession is refused as unknown and emits nothing (RFC 7009 §2.2 callers answer 200 for it)", () =>
    expect(given(...gone).when(revokeSession).thenFails("SessionNotLive").reason).toBe("unknown"));
  it("InvokeTool records a denial: the session is unknown", () =>
    given(...gone).when(invoke("account.read_self")).then({
      _tag: "ToolInvoked", tool: "whoami", sessionId: SESSION, permission: "account.read_self", outcome: "denied", reason: "session is unknown",
    }));
  it("ExpireDue does not record it again", () => given(...gone).when(expireDue(EXPIRES + 10_000)).thenNothing());
  it("nextDueAt does not wait for it", () => expect(nextDueAt(given(...gone).state)).toBeNull());
  it("RevokeConsent ends only the sessions still in state", () =>
    given(...gone, { ...sessionStarted(SCOPES, "s-2"), expiresAt: EXPIRES + 5_000 } as AccountEvent)
      .when({ _tag: "RevokeConsent", clientId: CLIENT })
      .then({ _tag: "ConsentRevoked", clientId: CLIENT }, { _tag: "SessionRevoked", sessionId: "s-2", reason: "consent_revoked" }));
  it("StartSession with a forgotten id starts a new session at generation 0 (ids are server-minted random UUIDs; refusing would need a tombstone per session)", () => {
    const restart = { ...startSession(), at: EXPIRES + 1, expiresAt: EXPIRES + 1_000 } as AccountCommand;
    const started = { ...sessionStarted(), expiresAt: EXPIRES + 1_000 } as AccountEvent;
    given(...gone).when(restart).then(started);
    expect(given(...gone, started).state.sessions.get(SESSION)?.generation).toBe(0);
  });
});

/** A service-account-like client: one token per minute, each a 10-minute session, the alarm running every minute. */
const TTL = 600_000;
const MINUTE = 60_000;
const step = (state: AccountState, command: AccountCommand): AccountState => {
  const decision = decide(command, state);
  if (Result.isFailure(decision)) throw new Error(`${command._tag} refused: ${decision.failure._tag}`);
  return decision.success.reduce(evolve, state);
};

describe("state size stays bounded however many sessions expired", () => {
  it("after 5,000 tokens (a session each) and the alarm every minute, state holds only the sessions not yet expired", () => {
    let state = fold([...registered, consented(["tools:read"])]);
    for (let i = 0; i < 5_000; i++) {
      const at = NOW + i * MINUTE;
      state = step(state, { _tag: "ExpireDue", at });
      state = step(state, { _tag: "StartSession", sessionId: `s-${i}`, clientId: CLIENT, scopes: ["tools:read"], resource: RESOURCE, expiresAt: at + TTL, at, amr: [] });
      expect(state.sessions.size).toBeLessThanOrEqual(TTL / MINUTE);
      for (const session of state.sessions.values()) expect(session.expiresAt).toBeGreaterThan(at);
    }
  });

  it("over random command sequences, after an ExpireDue at `at` no session with expiresAt <= at is left (revoked or not)", () =>
    fc.assert(fc.property(commands, (cmds) => {
      for (const { command, after } of run(cmds).steps) {
        if (command._tag !== "ExpireDue" || after.closed) continue;
        for (const session of after.sessions.values()) expect(session.expiresAt).toBeGreaterThan(command.at);
      }
    })));
});
