// AccountObject: one Durable Object per account. Thin: it folds the log into state, runs
// the pure decider, and appends atomically. No business rules live here.
//
// Concurrency: every RPC below is synchronous between reading state and committing
// (SQLite calls are synchronous, hashing uses node:crypto), so the Durable Object's input
// gate never lets a second request decide against stale state.

import { DurableObject } from "cloudflare:workers";
import { Result } from "effect";
import { decide, evolve, fold, initialState, sessionProblem, type AccountState } from "../../domain/account.ts";
import type { AccountCommand } from "../../domain/commands.ts";
import type { AccountError } from "../../domain/errors.ts";
import { SYSTEM, type AccountEvent, type Actor, type EventMetadata, type StoredEvent } from "../../domain/events.ts";
import { permissionsOf, sortRoles, type Role } from "../../domain/roles.ts";
import type { Env } from "../env.ts";
import type { PasswordHash } from "../password.ts";
import { ChainBroken, EventStore } from "../store/event-store.ts";
import { AccountSecrets } from "../store/secrets.ts";
import { exchangeCode, issueCode, rotateRefreshToken, type CodeGrant, type CodeRequest, type TokenOutcome } from "./account-tokens.ts";

export interface RequestMeta {
  readonly requestId: string;
  readonly at: number;
  readonly clientIp: string | null;
  readonly userAgent: string | null;
}

export interface AccountView {
  readonly accountId: string;
  readonly email: string;
  readonly roles: ReadonlyArray<Role>;
  readonly permissions: ReadonlyArray<string>;
}

export type Executed =
  | { readonly ok: true; readonly events: ReadonlyArray<StoredEvent> }
  | { readonly ok: false; readonly error: AccountError["_tag"]; readonly message: string };

export class AccountObject extends DurableObject<Env> {
  private readonly store: EventStore;
  private readonly secrets: AccountSecrets;
  private state: AccountState;
  private seq: number;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new EventStore(ctx.storage.sql);
    this.secrets = new AccountSecrets(ctx.storage.sql);
    // Rebuild from the log after eviction or restart: the log is the only truth. A log
    // whose hash chain is broken is not trusted at all (fail closed, see `intact`).
    let state = initialState;
    let seq = 0;
    try {
      for (const stored of this.store.all()) {
        state = evolve(state, stored.data);
        seq = stored.seq;
      }
    } catch (error) {
      if (!(error instanceof ChainBroken)) throw error;
      this.brokenAt = error.seq;
      state = initialState;
    }
    this.state = state;
    this.seq = seq;
  }

  /** Set when the log failed its integrity check on wake-up; the account then refuses all work. */
  private brokenAt: number | null = null;

  private intact(): void {
    if (this.brokenAt !== null) {
      console.error(JSON.stringify({ level: "error", event: "account_log_tampered", brokenAt: this.brokenAt }));
      throw new Error(`account log failed its integrity check at seq ${this.brokenAt}`);
    }
  }

  /**
   * Decides each command against the state left by the previous one and appends all
   * resulting events in one transaction; a refusal of any command appends nothing.
   */
  execute(commands: ReadonlyArray<{ command: AccountCommand; actor: Actor }>, meta: RequestMeta): Executed {
    this.intact();
    let state = this.state;
    const batches: Array<{ events: ReadonlyArray<AccountEvent>; actor: Actor }> = [];
    for (const { command, actor } of commands) {
      const decision = decide(command, state);
      if (Result.isFailure(decision)) {
        return { ok: false, error: decision.failure._tag, message: describe(decision.failure) };
      }
      state = fold(decision.success, state);
      batches.push({ events: decision.success, actor });
    }
    const appended = this.ctx.storage.transactionSync(() =>
      batches.flatMap(({ events, actor }) => {
        const metadata: EventMetadata = { ...meta, actor };
        const stored = this.store.append(events, metadata, () => crypto.randomUUID(), this.seq);
        this.seq += stored.length;
        return stored;
      }),
    );
    this.state = state;
    return { ok: true, events: appended };
  }

  private user(): Actor {
    return { kind: "user", id: this.state.accountId ?? "unknown" };
  }

  /** Sign-up: registration, the password's hash and (for ADMIN_EMAILS) the owner role, atomically. */
  register(input: { accountId: string; email: string; password: PasswordHash; isAdmin: boolean }, meta: RequestMeta): Executed {
    const user: Actor = { kind: "user", id: input.accountId };
    const commands: Array<{ command: AccountCommand; actor: Actor }> = [
      { command: { _tag: "RegisterAccount", accountId: input.accountId, email: input.email }, actor: user },
    ];
    if (input.isAdmin) commands.push({ command: { _tag: "GrantRole", role: "owner", reason: "ADMIN_EMAILS" }, actor: SYSTEM });
    const fresh = this.state.accountId === null;
    const result = this.execute(commands, meta);
    if (result.ok && fresh) this.secrets.setPassword(input.password);
    return result;
  }

  /** The stored hash, for the Worker to verify off the object's single thread. */
  passwordHash(): PasswordHash | null {
    this.intact();
    return this.secrets.password();
  }

  recordLogin(passwordMatches: boolean, clientId: string | null, meta: RequestMeta): Executed {
    return this.execute([{ command: { _tag: "RecordLogin", passwordMatches, clientId }, actor: this.user() }], meta);
  }

  view(): AccountView | null {
    const { accountId, email, roles } = this.state;
    if (accountId === null || email === null) return null;
    return { accountId, email, roles: sortRoles(roles), permissions: [...permissionsOf(roles)].sort() };
  }

  /** Consent was given on the consent page: record it and issue a single-use code. */
  approve(request: CodeRequest, meta: RequestMeta): TokenOutcome<{ code: string }> {
    if (this.secrets.ticketUsed(request.ticketId)) return { ok: false, reason: "ticket_used" };
    const consent = this.execute(
      [{ command: { _tag: "GrantConsent", clientId: request.clientId, clientName: request.clientName, redirectHost: request.redirectHost, scopes: request.scopes }, actor: this.user() }],
      meta,
    );
    if (!consent.ok) return { ok: false, reason: "account_not_found" };
    return { ok: true, value: issueCode(this.secrets, request, meta.at, this.state.accountId!) };
  }

  deny(clientId: string, scopes: ReadonlyArray<string>, meta: RequestMeta): Executed {
    return this.execute([{ command: { _tag: "DenyConsent", clientId, scopes }, actor: this.user() }], meta);
  }

  redeemCode(grant: CodeGrant, meta: RequestMeta) {
    return exchangeCode(this.tokenContext(meta), grant);
  }

  refresh(input: { refreshToken: string; clientId: string; scopes: ReadonlyArray<string> | null }, meta: RequestMeta) {
    return rotateRefreshToken(this.tokenContext(meta), input);
  }

  private tokenContext(meta: RequestMeta) {
    return {
      secrets: this.secrets,
      state: () => this.state,
      at: meta.at,
      run: (command: AccountCommand, actor: Actor = this.user()) => this.execute([{ command, actor }], meta),
      runAsSystem: (command: AccountCommand) => this.execute([{ command, actor: SYSTEM }], meta),
      transaction: <T>(fn: () => T) => this.ctx.storage.transactionSync(fn),
    };
  }

  /** Asked on every MCP request: is this session live, and who is it? */
  session(sessionId: string, at: number) {
    if (this.brokenAt !== null) return { live: false as const, reason: "integrity" };
    const problem = sessionProblem(this.state, sessionId, at);
    const view = this.view();
    if (problem || !view) return { live: false as const, reason: problem ?? "unknown" };
    const session = this.state.sessions.get(sessionId)!;
    return { live: true as const, account: view, scopes: session.scopes, clientId: session.clientId };
  }

  /** The permission check of one tool call, recorded as ToolInvoked (allowed or denied). */
  invokeTool(command: Extract<AccountCommand, { _tag: "InvokeTool" }>, meta: RequestMeta) {
    const result = this.execute([{ command, actor: this.user() }], meta);
    if (!result.ok) return { allowed: false as const, reason: result.message };
    const event = result.events[0]!.data;
    if (event._tag !== "ToolInvoked") throw new Error("InvokeTool must record ToolInvoked");
    return event.outcome === "allowed"
      ? { allowed: true as const, account: this.view()!, seq: result.events[0]!.seq }
      : { allowed: false as const, reason: event.reason ?? "denied" };
  }

  events(beforeSeq: number | null, limit: number): StoredEvent[] {
    return this.store.page(beforeSeq, Math.max(1, Math.min(limit, 100)));
  }

  verifyChain() {
    return this.store.verifyChain();
  }
}

const describe = (error: AccountError): string => {
  switch (error._tag) {
    case "AccountNotFound": return "no such account";
    case "AccountAlreadyRegistered": return `an account is already registered for ${error.email}`;
    case "ConsentMissing": return `no consent recorded for client ${error.clientId}`;
    case "SessionNotLive": return `session is ${error.reason}`;
    case "SessionAlreadyStarted": return "session id already in use";
    case "StaleRefresh": return "refresh token generation is superseded";
  }
};
