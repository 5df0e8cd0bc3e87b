// CloseAccount: a closed account decides nothing more. Every command is refused with
// AccountClosed, except ExpireDue and CloseAccount, which stay quiet (the alarm and a
// retried close must not fail); its sessions are no longer live and no expiry is pending.

import { describe, expect, it } from "vitest";
import { nextDueAt, sessionProblem } from "../../domain/account.ts";
import {
  EMAIL, EXPIRES, SESSION, accountClosed, closeAccount, expireDue, invoke, oneOfEach, register,
  registered, withLiveSession,
} from "./fixtures.ts";
import { given } from "./given-when-then.ts";

describe("CloseAccount", () => {
  it("closes a registered account, recording why", () =>
    given(...registered).when(closeAccount).then(accountClosed));
  it("records the reason given", () =>
    given(...withLiveSession).when({ ...closeAccount, reason: "abuse" }).then({ _tag: "AccountClosed", reason: "abuse" }));
  it("refuses on an account that was never registered", () => void given().when(closeAccount).thenFails("AccountNotFound"));
  it("stays quiet when the account is already closed", () =>
    given(...registered, accountClosed).when(closeAccount).thenNothing());
  it("stays quiet when closed again with a different reason", () =>
    given(...registered, accountClosed).when({ ...closeAccount, reason: "abuse" }).thenNothing());
});

describe("a closed account", () => {
  const closed = [...withLiveSession, accountClosed];
  const refusedWhenClosed = oneOfEach.filter(
    (c) => c._tag !== "ExpireDue" && c._tag !== "CloseAccount" && c._tag !== "RegisterAccount",
  );

  it.each(refusedWhenClosed.map((c) => [c._tag, c] as const))(
    "refuses %s with AccountClosed",
    (_, command) => void given(...closed).when(command).thenFails("AccountClosed"),
  );

  it("refuses an identical RegisterAccount with AccountClosed", () =>
    void given(...closed).when(register).thenFails("AccountClosed"));
  it("refuses a RegisterAccount with another email with AccountClosed", () =>
    void given(...closed).when({ ...register, email: `other-${EMAIL}` }).thenFails("AccountClosed"));

  it("stays quiet on ExpireDue even with a session past its expiry", () =>
    given(...closed).when(expireDue(EXPIRES + 1_000)).thenNothing());
  it("has no live session: a session live before closing is reported revoked at any time", () => {
    const state = given(...closed).state;
    expect(sessionProblem(state, SESSION, EXPIRES - 1)).toBe("revoked");
    expect(sessionProblem(state, SESSION, 0)).toBe("revoked");
  });
  it("refuses a tool call on a session that was live before closing", () =>
    void given(...closed).when(invoke("account.read_self", "tools:read", EXPIRES - 1)).thenFails("AccountClosed"));
  it("has nothing pending for the alarm", () => {
    expect(nextDueAt(given(...withLiveSession).state)).toBe(EXPIRES);
    expect(nextDueAt(given(...closed).state)).toBeNull();
  });
  it("keeps the account's identity and history: closing is not erasing", () => {
    const state = given(...closed).state;
    expect(state).toMatchObject({ email: EMAIL, closed: true });
    expect(state.sessions.has(SESSION)).toBe(true);
  });
});
