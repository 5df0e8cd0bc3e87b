// Decider specs for client administration (RecordClientRegistered, RecordClientDisabled): the
// operator's own log names every client they register or disable, so the audit trail answers
// "who created this client, with which grants and scopes" without reading the client registry.

import { describe, expect, it } from "vitest";
import { fold } from "../../domain/account.ts";
import type { AccountEvent, StoredEvent } from "../../domain/events.ts";
import { toAuditRow } from "../../projections/audit.ts";
import { emptyDirectoryRow, reduceDirectory } from "../../projections/directory.ts";
import { ACCOUNT, OTHER_CLIENT, accountClosed, registered, type Command } from "./fixtures.ts";
import { given } from "./given-when-then.ts";

const registerClient: Command<"RecordClientRegistered"> = {
  _tag: "RecordClientRegistered", clientId: OTHER_CLIENT, kind: "service", clientName: "Exporter",
  grantTypes: ["client_credentials"], scopes: ["audit:read"], serviceAccountId: "svc-1",
};
const disableClient: Command<"RecordClientDisabled"> = { _tag: "RecordClientDisabled", clientId: OTHER_CLIENT, kind: "service", serviceAccountId: "svc-1" };
const clientRegistered: AccountEvent = {
  _tag: "ClientRegistered", clientId: OTHER_CLIENT, kind: "service", clientName: "Exporter",
  grantTypes: ["client_credentials"], scopes: ["audit:read"], serviceAccountId: "svc-1",
};
const clientDisabled: AccountEvent = { _tag: "ClientDisabled", clientId: OTHER_CLIENT, kind: "service", serviceAccountId: "svc-1" };

describe("RecordClientRegistered / RecordClientDisabled: the operator's log names the client", () => {
  it("given a live operator, when a registration is recorded, then ClientRegistered carries the client's shape", () =>
    given(...registered).when(registerClient).then(clientRegistered));
  it("given a live operator, when a disabling is recorded, then ClientDisabled names the client and its service account", () =>
    given(...registered).when(disableClient).then(clientDisabled));
  it("given a resource server (no grant, no scope), then the event says so with empty lists and no service account", () =>
    given(...registered)
      .when({ ...registerClient, kind: "resource_server", grantTypes: [], scopes: [], serviceAccountId: null })
      .then({ ...clientRegistered, kind: "resource_server", grantTypes: [], scopes: [], serviceAccountId: null }));
  it("every call is its own record: recording the same registration twice emits it twice (the edge keys retries)", () =>
    given(...registered, clientRegistered).when(registerClient).then(clientRegistered));
  it("given no account, then both are refused with AccountNotFound", () => {
    given().when(registerClient).thenFails("AccountNotFound");
    given().when(disableClient).thenFails("AccountNotFound");
  });
  it("given a closed account, then both are refused with AccountClosed", () => {
    given(...registered, accountClosed).when(registerClient).thenFails("AccountClosed");
    given(...registered, accountClosed).when(disableClient).thenFails("AccountClosed");
  });
  it("the events change nothing the decider decides on (the registry holds the client)", () =>
    expect(fold([...registered, clientRegistered, clientDisabled])).toEqual(fold(registered)));
  it("no field can hold a secret: the event has exactly the audited fields", () => {
    expect(Object.keys(clientRegistered).sort()).toEqual(["_tag", "clientId", "clientName", "grantTypes", "kind", "scopes", "serviceAccountId"]);
    expect(Object.keys(clientDisabled).sort()).toEqual(["_tag", "clientId", "kind", "serviceAccountId"]);
  });
});

describe("read models: client administration reaches the audit index, not the directory", () => {
  const stored = (data: AccountEvent, seq: number): StoredEvent => ({
    seq, eventId: `e${seq}`, type: data._tag, version: 1, data,
    metadata: { actor: { kind: "user", id: ACCOUNT }, requestId: `r${seq}`, at: 5_000 + seq, clientIp: null, userAgent: null },
    prevHash: "0".repeat(64), hash: "1".repeat(64),
  });
  it("the audit row carries the event's data with the operator as actor", () =>
    expect(toAuditRow(ACCOUNT, stored(clientRegistered, 4))).toMatchObject({
      type: "ClientRegistered", actorKind: "user", actorId: ACCOUNT, outcome: null, data: clientRegistered,
    }));
  it("the directory row only advances its position", () => {
    const row = { ...emptyDirectoryRow(ACCOUNT), lastSeq: 3 };
    expect(reduceDirectory(row, stored(clientDisabled, 4))).toEqual({ ...row, lastSeq: 4 });
  });
});
