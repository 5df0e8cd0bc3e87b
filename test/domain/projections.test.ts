// Read-model reducers are total: any event the schema admits (generated from the AccountEvent
// schema itself, so a new event type is covered the day it is added) is reduced without
// throwing, and reducing is a pure function of the log.

import { Arbitrary, Effect } from "effect";
import { describe, expect, it } from "vitest";
import { AccountEvent, type StoredEvent } from "../../domain/events.ts";
import { outcomeOf, toAuditRow } from "../../projections/audit.ts";
import { emptyDirectoryRow, reduceDirectory } from "../../projections/directory.ts";
import { fnv1a, parseTarget, PROJECTIONS, shardOf, targetOf, targetsFor } from "../../projections/sharding.ts";

const samples = Effect.runSync(Arbitrary.sampleEffect(Arbitrary.schema(AccountEvent), { count: 2_000, seed: 7 }));

const stored = (data: AccountEvent, seq: number): StoredEvent => ({
  seq,
  eventId: `e${seq}`,
  type: data._tag,
  version: 1,
  data,
  metadata: { actor: { kind: "user", id: "u" }, requestId: `r${seq}`, at: 1_000 + seq, clientIp: null, userAgent: null },
  prevHash: "0".repeat(64),
  hash: "1".repeat(64),
});

describe("reducers never throw on a recorded event", () => {
  it("covers every event type in the generated sample", () =>
    expect(new Set(samples.map((e) => e._tag)).size).toBe(Object.keys(AccountEvent.cases).length));

  it("the directory reducer folds 2,000 schema-generated events without throwing, tracking lastSeq", () => {
    let row = emptyDirectoryRow("acct");
    samples.forEach((event, i) => {
      row = reduceDirectory(row, stored(event, i + 1));
    });
    expect(row.lastSeq).toBe(samples.length);
  });

  it("the audit mapping turns every generated event into a row of that event", () =>
    samples.forEach((event, i) => {
      const row = toAuditRow("acct", stored(event, i + 1));
      expect(row).toMatchObject({ accountId: "acct", seq: i + 1, type: event._tag, outcome: outcomeOf(stored(event, i + 1)) });
    }));

  it("reducing is deterministic: the same log gives the same row", () => {
    const fold = () => samples.reduce((row, e, i) => reduceDirectory(row, stored(e, i + 1)), emptyDirectoryRow("acct"));
    expect(fold()).toEqual(fold());
  });
});

describe("the directory row follows the account's life", () => {
  const at = (data: AccountEvent, seq: number) => stored(data, seq);
  const log: AccountEvent[] = [
    { _tag: "AccountRegistered", accountId: "acct", email: "a@example.com" },
    { _tag: "RoleGranted", role: "member", reason: "every account is a member", expiresAt: null },
    { _tag: "RoleGranted", role: "auditor", reason: "audit", expiresAt: 5_000 },
    { _tag: "LoginFailed", reason: "invalid_password", failedAttempts: 1 },
    { _tag: "LoginSucceeded", clientId: null },
    { _tag: "SessionStarted", sessionId: "s1", clientId: "c", scopes: [], resource: "r", expiresAt: 9, amr: ["pwd"] },
    { _tag: "SessionStarted", sessionId: "s2", clientId: "c", scopes: [], resource: "r", expiresAt: 9, amr: ["pwd"] },
    { _tag: "SessionExpired", sessionId: "s1" },
    { _tag: "RoleExpired", role: "auditor" },
  ];
  const row = log.reduce((r, e, i) => reduceDirectory(r, at(e, i + 1)), emptyDirectoryRow("acct"));

  it("records email, roles in force, live sessions, last login and failures reset by success", () =>
    expect(row).toMatchObject({
      email: "a@example.com", status: "active", roles: ["member"], liveSessions: ["s2"],
      lastLoginAt: 1_005, consecutiveFailedLogins: 0, registeredAt: 1_001, lastSeq: 9,
    }));

  it("closing ends every live session and marks the account closed", () =>
    expect(reduceDirectory(row, at({ _tag: "AccountClosed", reason: "x" }, 10))).toMatchObject({ status: "closed", liveSessions: [] }));
});

describe("sharding by account id", () => {
  it("is stable and in range for every projection", () => {
    for (const [name, { shards }] of Object.entries(PROJECTIONS)) {
      for (let i = 0; i < 200; i++) {
        const id = `account-${i}`;
        expect(shardOf(id, shards)).toBe(fnv1a(id) % shards);
        expect(parseTarget(targetOf(name as keyof typeof PROJECTIONS, id))).toEqual({ projection: name, shard: shardOf(id, shards) });
      }
    }
  });

  it("spreads 4,000 random account ids over every shard within ±25% of even", () => {
    const counts = new Array(PROJECTIONS.audit.shards).fill(0);
    for (let i = 0; i < 4_000; i++) counts[shardOf(crypto.randomUUID(), PROJECTIONS.audit.shards)] += 1;
    for (const n of counts) expect(Math.abs(n - 500)).toBeLessThan(125);
  });

  it("sends an account's events to exactly one shard of each projection", () =>
    expect(targetsFor("acct").map((t) => parseTarget(t)?.projection)).toEqual(Object.keys(PROJECTIONS)));

  it("refuses malformed targets", () => {
    for (const bad of ["", "directory", "nope/1", "audit/x", "audit/-1"]) expect(parseTarget(bad)).toBeNull();
  });
});
