// Accounts service: the Worker's view of account, email-index and client objects.
// One place that knows how ids map to Durable Objects (ARCHITECTURE.md "Homes").

import { Context, Effect, Layer } from "effect";
import type { Env } from "../env.ts";
import type { AccountView, Executed, RequestMeta } from "../objects/account-object.ts";
import type { PasswordHash } from "../password.ts";

export interface AccountsShape {
  /** Claims an email for a new account id; returns the id that owns it (maybe another). */
  readonly claimEmail: (email: string, accountId: string, at: number) => Effect.Effect<{ owner: string; claimed: boolean }>;
  readonly accountIdFor: (email: string) => Effect.Effect<string | null>;
  readonly register: (
    input: { accountId: string; email: string; password: PasswordHash; isAdmin: boolean },
    meta: RequestMeta,
  ) => Effect.Effect<Executed>;
  readonly passwordHash: (accountId: string) => Effect.Effect<PasswordHash | null>;
  /** `verifiedHash`: the stored hash the password was checked against (a change since makes it wrong). */
  readonly recordLogin: (accountId: string, matches: boolean, clientId: string | null, meta: RequestMeta, verifiedHash?: string) => Effect.Effect<Executed>;
  readonly view: (accountId: string) => Effect.Effect<AccountView | null>;
  readonly adminEmails: ReadonlySet<string>;
}

export class Accounts extends Context.Service<Accounts, AccountsShape>()("warden/Accounts") {}

export const accountStub = (env: Env, accountId: string) => env.ACCOUNTS.get(env.ACCOUNTS.idFromName(accountId));

/** Durable Object RPC failures are infrastructure defects: they die at the edge (→ 503). */
export const call = <A>(f: () => PromiseLike<A>): Effect.Effect<A> => Effect.promise(async () => await f());

export const accountsLayer = (env: Env, adminEmails: ReadonlySet<string>) =>
  Layer.succeed(
    Accounts,
    Accounts.of({
      claimEmail: (email, accountId, at) => call(() => env.EMAILS.get(env.EMAILS.idFromName(email)).claim(accountId, at)),
      accountIdFor: (email) => call(() => env.EMAILS.get(env.EMAILS.idFromName(email)).owner()),
      register: (input, meta) => call<Executed>(() => accountStub(env, input.accountId).register(input, meta)),
      passwordHash: (accountId) => call(() => accountStub(env, accountId).passwordHash()),
      recordLogin: (accountId, matches, clientId, meta, verifiedHash) =>
        call<Executed>(() => accountStub(env, accountId).recordLogin(matches, clientId, meta, verifiedHash)),
      view: (accountId) => call(() => accountStub(env, accountId).view()),
      adminEmails,
    }),
  );
