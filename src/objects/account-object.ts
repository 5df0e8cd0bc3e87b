// AccountObject: one Durable Object per account. Thin: it folds the log into state, runs
// the pure decider, and appends atomically. No business rules live here.
//
// Concurrency: every RPC below is synchronous between reading state and committing
// (SQLite calls are synchronous, hashing uses node:crypto), so the Durable Object's input
// gate never lets a second request decide against stale state.

import { DurableObject } from "cloudflare:workers";
import { nextDueAt, sessionProblem, type AccountState } from "../../domain/account.ts";
import type { AccountCommand, ClientAdminCommand } from "../../domain/commands.ts";
import { SYSTEM, type Actor, type StoredEvent } from "../../domain/events.ts";
import type { Role } from "../../domain/roles.ts";
import { targetsFor } from "../../projections/sharding.ts";
import type { Env } from "../env.ts";
import type { PasswordHash } from "../password.ts";
import { ACCOUNT_MIGRATIONS } from "../store/account-schema.ts";
import { hasTable, migrate } from "../store/migrations.ts";
import { Outbox } from "../store/outbox.ts";
import { AccountSecrets } from "../store/secrets.ts";
import { deliverPending } from "./account-delivery.ts";
import { AccountLog, type Executed, type ExecuteOptions, type RequestMeta, type Stamped } from "./account-log.ts";
import { changePassword, mfaRequest, type MfaContext, type MfaRequest, type MfaResults } from "./account-mfa.ts";
import { MfaSecrets } from "../store/mfa-secrets.ts";
import { approveConsent, denyConsent, exchangeCode, rotateRefreshToken, type CodeGrant, type CodeRequest, type IssuedSession, type TokenOutcome } from "./account-tokens.ts";
import { GENESIS_HASH } from "../store/event-store.ts";
import { introspectSession, revokeToken, supersedeRevoked } from "./account-sessions.ts";
import { callerViewOf, liveSessionsOf, resumeStatusOf, viewOf, type AccountView, type CallerView } from "./account-views.ts";

export type { Executed, RequestMeta } from "./account-log.ts";

export type { AccountView, CallerView, ServiceAccountView } from "./account-views.ts";

export type ServiceSessionOutcome = { readonly ok: true; readonly sessionId: string; readonly accountId: string } | { readonly ok: false; readonly reason: string };

/** Snapshot every N events unless SNAPSHOT_EVERY says otherwise (0 disables). */
const DEFAULT_SNAPSHOT_EVERY = 200;

export class AccountObject extends DurableObject<Env> {
  private readonly log: AccountLog;
  private readonly secrets: AccountSecrets;
  private readonly outbox: Outbox;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // An object that was never written stays that way until registration: a probe with a
    // made-up account id (in a code or token) reads nothing and leaves no storage behind.
    const empty = !hasTable(ctx.storage.sql, "schema_migrations");
    if (!empty) migrate(ctx.storage, ACCOUNT_MIGRATIONS);
    const every = Number(env.SNAPSHOT_EVERY ?? DEFAULT_SNAPSHOT_EVERY);
    this.log = new AccountLog(ctx.storage, Number.isFinite(every) && every >= 0 ? every : DEFAULT_SNAPSHOT_EVERY, empty);
    this.secrets = new AccountSecrets(ctx.storage.sql);
    this.outbox = new Outbox(ctx.storage.sql);
    if (!empty) this.resumePendingWork();
  }

  /**
   * On every wake: make sure this account feeds its projection shards (an account written
   * before the outbox existed has no rows yet) and that an alarm is set for whatever is
   * pending, so no delivery or expiry depends on an alarm that was lost.
   */
  private resumePendingWork(): void {
    const accountId = this.state.accountId;
    if (!accountId || this.log.brokenAt !== null) return;
    this.outbox.ensure(targetsFor(accountId));
    this.outboxReady = true;
    const next = [nextDueAt(this.state), this.outbox.nextAttemptAt(this.log.head.seq)].filter((t): t is number => t !== null);
    if (next.length > 0) void this.ctx.storage.setAlarm(Math.max(Date.now(), Math.min(...next)));
  }

  private get state(): AccountState {
    return this.log.state;
  }

  /**
   * Every append goes through here: decide + append (AccountLog), then make sure the alarm
   * will deliver the new events and run the next expiry. The alarm is set in the same
   * synchronous turn, so it commits with the events (output gate).
   */
  execute(commands: ReadonlyArray<Stamped>, meta: RequestMeta, options: ExecuteOptions = {}): Executed {
    const result = this.log.execute(commands, meta, options);
    if (result.ok && result.events.length > 0 && !result.replayed) this.armDelivery(meta.at);
    return result;
  }

  /** Whether this instance already armed the alarm for pending delivery (cleared when it runs). */
  private deliveryArmed = false;
  private outboxReady = false;

  private armDelivery(at: number): void {
    const accountId = this.state.accountId;
    if (accountId && !this.outboxReady) {
      this.outbox.ensure(targetsFor(accountId));
      this.outboxReady = true;
    }
    if (!this.deliveryArmed) {
      this.deliveryArmed = true;
      void this.ctx.storage.setAlarm(at);
    }
  }

  /** Delivery to projections and expiries: at least once, idempotent, re-armed until done. */
  override async alarm(): Promise<void> {
    this.deliveryArmed = false;
    const accountId = this.state.accountId;
    if (!accountId || this.log.brokenAt !== null) return;
    const now = Date.now();
    this.execute([{ command: { _tag: "ExpireDue", at: now }, actor: SYSTEM }], { requestId: `alarm:${now}`, at: now, clientIp: null, userAgent: null });
    await deliverPending(this.env, accountId, this.log.store, this.outbox, () => this.log.head.seq, () => Date.now());
    this.log.pruneIdempotencyKeys(Date.now());
    const next = [nextDueAt(this.state), this.outbox.nextAttemptAt(this.log.head.seq)].filter((t): t is number => t !== null);
    if (next.length > 0) await this.ctx.storage.setAlarm(Math.max(Date.now(), Math.min(...next)));
    // The alarm now points at the next expiry or retry (pending events included, at "now"):
    // the next append must arm it again for prompt delivery.
    this.deliveryArmed = false;
  }

  /** A rebuilt projection shard asks for everything again, from seq 1. */
  redeliver(target: string): void {
    if (this.log.empty) return;
    this.outbox.rewind(target);
    this.deliveryArmed = true;
    void this.ctx.storage.setAlarm(Date.now());
  }

  /** Delivery state per target, for operators and tests. */
  outboxStatus() {
    if (this.log.empty) return { head: 0, targets: [] };
    return { head: this.log.head.seq, targets: this.outbox.rows() };
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
    if (input.isAdmin) commands.push({ command: { _tag: "GrantRole", role: "owner", reason: "ADMIN_EMAILS", expiresAt: null }, actor: SYSTEM });
    const fresh = this.state.accountId === null;
    const result = this.execute(commands, meta, { expected: { kind: "none" }, idempotencyKey: `${meta.requestId}:register` });
    if (result.ok && fresh) this.secrets.setPassword(input.password);
    return result;
  }

  /** The stored hash, for the Worker to verify off the object's single thread. */
  passwordHash(): PasswordHash | null {
    if (this.log.empty) return null;
    this.log.intact();
    return this.secrets.password();
  }

  /** A password verified against a hash that has since been replaced is the wrong password now. */
  recordLogin(passwordMatches: boolean, clientId: string | null, meta: RequestMeta, verifiedHash?: string): Executed {
    const current = verifiedHash === undefined || this.secrets.password()?.hash === verifiedHash;
    return this.execute([{ command: { _tag: "RecordLogin", passwordMatches: passwordMatches && current, clientId, at: meta.at }, actor: this.user() }], meta, {
      idempotencyKey: `${meta.requestId}:login`,
    });
  }

  /** Second factor (src/objects/account-mfa.ts): status, sealed seed, enrollment, verification. */
  mfa<R extends MfaRequest>(request: R, meta: RequestMeta): MfaResults[R["op"]] | null {
    if (this.log.empty) return null;
    this.log.intact();
    return mfaRequest(this.mfaContext(meta), request, meta.requestId);
  }

  /** Password change: the Worker verified the current password and hashed the new one. */
  changePassword(input: Parameters<typeof changePassword>[1], meta: RequestMeta): ReturnType<typeof changePassword> {
    if (this.log.empty) return { ok: false, error: "Stale", message: "no such account" };
    return changePassword(this.mfaContext(meta), input, meta.requestId);
  }

  private mfaContext(meta: RequestMeta): MfaContext {
    return {
      mfa: new MfaSecrets(this.ctx.storage.sql), secrets: this.secrets, state: () => this.state, at: meta.at,
      run: (command, key) => this.execute([{ command, actor: this.user() }], meta, { idempotencyKey: key }),
      transaction: (fn) => this.ctx.storage.transactionSync(fn),
    };
  }

  view(at = Date.now()): AccountView | null {
    return viewOf(this.state, at);
  }

  /** A browser sign-in session resuming at /authorize: the account, any lockout, consented scopes. */
  resumeStatus(clientId: string, at = Date.now()) {
    return resumeStatusOf(this.state, clientId, at);
  }

  callerView(at = Date.now()): CallerView | null {
    return callerViewOf(this.state, at);
  }

  /** An operator (the actor) creates a service account for a client_credentials client. */
  registerServiceAccount(command: Extract<AccountCommand, { _tag: "RegisterServiceAccount" }>, actor: Actor, meta: RequestMeta): Executed {
    return this.execute([{ command, actor }], meta, { expected: { kind: "none" }, idempotencyKey: `${meta.requestId}:register-service` });
  }

  /**
   * RFC 6749 §4.4: a client_credentials token is a short session of the service account,
   * started by its client (the actor), so /mcp liveness checks and revocation apply unchanged.
   */
  startServiceSession(input: { clientId: string; scopes: ReadonlyArray<string>; resource: string; expiresAt: number }, meta: RequestMeta): ServiceSessionOutcome {
    if (this.log.empty || this.state.service === null) return { ok: false, reason: "not a service account" };
    const sessionId = crypto.randomUUID();
    // No person authenticated: the session records no authentication method (amr, RFC 8176).
    const command: AccountCommand = { _tag: "StartSession", sessionId, ...input, at: meta.at, amr: [] };
    const result = this.execute([{ command, actor: { kind: "client", id: input.clientId } }], meta);
    return result.ok ? { ok: true, sessionId, accountId: this.state.accountId! } : { ok: false, reason: result.message };
  }

  /** Operators grant roles (optionally until a time); retried with the same key, one effect. */
  grantRole(input: { role: Role; reason: string; expiresAt: number | null; actor: Actor; idempotencyKey?: string }, meta: RequestMeta): Executed {
    return this.execute([{ command: { _tag: "GrantRole", role: input.role, reason: input.reason, expiresAt: input.expiresAt }, actor: input.actor }], meta, {
      idempotencyKey: input.idempotencyKey ?? `${meta.requestId}:grant`,
    });
  }

  /** An operator lifts a lockout early (the failure count starts over). */
  unlock(input: { reason: string; actor: Actor; idempotencyKey?: string }, meta: RequestMeta): Executed {
    return this.execute([{ command: { _tag: "UnlockAccount", reason: input.reason }, actor: input.actor }], meta, {
      idempotencyKey: input.idempotencyKey ?? `${meta.requestId}:unlock`,
    });
  }

  /** Closing ends every session and cancels pending expiries; delivery still runs. */
  close(input: { reason: string; actor: Actor; idempotencyKey?: string }, meta: RequestMeta): Executed {
    const result = this.execute([{ command: { _tag: "CloseAccount", reason: input.reason }, actor: input.actor }], meta, {
      idempotencyKey: input.idempotencyKey ?? `${meta.requestId}:close`,
    });
    if (result.ok) this.secrets.supersedeAll(meta.at);
    return result;
  }

  /**
   * The operator (this account, the actor) registered or disabled a client: recorded after the
   * registry write, so the audit trail names the client. Once per request and client.
   */
  recordClientAdmin(command: ClientAdminCommand, meta: RequestMeta): Executed {
    return this.execute([{ command, actor: this.user() }], meta, { idempotencyKey: `${meta.requestId}:${command._tag}:${command.clientId}` });
  }

  /** Consent was given on the consent page: record it and issue a single-use code. */
  approve(request: CodeRequest, meta: RequestMeta): TokenOutcome<{ code: string }> {
    return this.log.empty ? { ok: false, reason: "account_not_found" } : approveConsent(this.tokenContext(meta), request);
  }

  /** The consent page was answered "deny"; like "allow", a ticket is answered only once. */
  deny(input: { ticketId: string; clientId: string; scopes: ReadonlyArray<string> }, meta: RequestMeta): TokenOutcome<null> {
    return this.log.empty ? { ok: false, reason: "account_not_found" } : denyConsent(this.tokenContext(meta), input);
  }

  redeemCode(grant: CodeGrant, meta: RequestMeta): TokenOutcome<IssuedSession> {
    if (this.log.empty) return { ok: false, reason: "code_unknown" };
    return exchangeCode(this.tokenContext(meta), grant);
  }

  refresh(input: { refreshToken: string; clientId: string; scopes: ReadonlyArray<string> | null }, meta: RequestMeta): TokenOutcome<IssuedSession> {
    if (this.log.empty) return { ok: false, reason: "refresh_unknown" };
    return rotateRefreshToken(this.tokenContext(meta), input);
  }

  private tokenContext(meta: RequestMeta) {
    return {
      secrets: this.secrets,
      state: () => this.state,
      at: meta.at,
      run: (command: AccountCommand, actor: Actor = this.user()) => this.execute([{ command, actor }], meta),
      runAsSystem: (command: AccountCommand) => this.execute([{ command, actor: SYSTEM }], meta),
      runKeyed: (command: AccountCommand, idempotencyKey: string) => this.execute([{ command, actor: this.user() }], meta, { idempotencyKey }),
      answered: (key: string) => this.log.answered(key),
      transaction: <T>(fn: () => T) => this.ctx.storage.transactionSync(fn),
    };
  }

  /** RFC 7009: a client revokes a token it holds (src/objects/account-sessions.ts). */
  revokeToken(input: { refreshToken?: string; sessionId?: string; clientId: string }, meta: RequestMeta): "revoked" | "unknown" | "not_yours" {
    return this.log.empty ? "unknown" : revokeToken(this.tokenContext(meta), input);
  }

  /** RFC 7662: what a token stands for, if it is active now. */
  introspect(input: { refreshToken?: string; sessionId?: string }, at: number) {
    return this.log.empty ? null : introspectSession({ secrets: this.secrets, state: () => this.state, at }, input);
  }

  /** The user's live sessions, newest expiry first. */
  listSessions(at: number) {
    return liveSessionsOf(this.state, at);
  }

  /** The user ends one of their own sessions: its refresh tokens die, its JWTs stop at the next request. */
  revokeSession(sessionId: string, meta: RequestMeta): Executed {
    const result = this.execute([{ command: { _tag: "RevokeSession", sessionId, reason: "user_request" }, actor: this.user() }], meta, {
      idempotencyKey: `${meta.requestId}:revoke-session`,
    });
    return supersedeRevoked({ secrets: this.secrets, at: meta.at }, result);
  }

  listConsents() {
    return [...this.state.consents.entries()].map(([clientId, scopes]) => ({ clientId, scopes }));
  }

  /** The user withdraws a client's consent; every live session of that client ends with it. */
  revokeConsent(clientId: string, meta: RequestMeta): Executed {
    const result = this.execute([{ command: { _tag: "RevokeConsent", clientId }, actor: this.user() }], meta, {
      idempotencyKey: `${meta.requestId}:revoke-consent`,
    });
    return supersedeRevoked({ secrets: this.secrets, at: meta.at }, result);
  }

  /** Asked on every MCP request: is this session live, and who is it? */
  session(sessionId: string, at: number) {
    if (this.log.brokenAt !== null) return { live: false as const, reason: "integrity" };
    const problem = sessionProblem(this.state, sessionId, at);
    const view = this.callerView(at);
    if (problem || !view) return { live: false as const, reason: problem ?? "unknown" };
    const session = this.state.sessions.get(sessionId)!;
    return { live: true as const, account: view, scopes: session.scopes, clientId: session.clientId, amr: session.amr };
  }

  /** The permission check of one tool call, recorded as ToolInvoked (allowed or denied). */
  invokeTool(command: Extract<AccountCommand, { _tag: "InvokeTool" }>, meta: RequestMeta) {
    const result = this.execute([{ command, actor: this.user() }], meta, { idempotencyKey: `${meta.requestId}:tool` });
    if (!result.ok) return { allowed: false as const, reason: result.message };
    const event = result.events[0]!.data;
    if (event._tag !== "ToolInvoked") throw new Error("InvokeTool must record ToolInvoked");
    return event.outcome === "allowed"
      ? { allowed: true as const, account: this.callerView()!, seq: result.events[0]!.seq }
      : { allowed: false as const, reason: event.reason ?? "denied" };
  }

  events(beforeSeq: number | null, limit: number): StoredEvent[] {
    if (this.log.empty) return [];
    return this.log.store.page(beforeSeq, Math.max(1, Math.min(limit, 100)));
  }

  verifyChain() {
    if (this.log.empty) return { ok: true as const, head: GENESIS_HASH, count: 0 };
    return this.log.store.verifyChain();
  }
}
