// Sign-up and sign-in, as Effect workflows over the Accounts and Passwords services.
// Refusals are typed; the page handlers map each one to a page (src/pages/flows.ts).

import { Effect, Schema } from "effect";
import { emailProblem, normalizeEmail, passwordProblem } from "../../domain/credentials.ts";
import type { AccountView, RequestMeta } from "../objects/account-object.ts";
import { Accounts } from "../services/accounts.ts";
import { Passwords } from "../services/passwords.ts";

export class InvalidEmail extends Schema.TaggedError<InvalidEmail>()("InvalidEmail", { message: Schema.String }) {}
export class WeakPassword extends Schema.TaggedError<WeakPassword>()("WeakPassword", { message: Schema.String }) {}
export class EmailTaken extends Schema.TaggedError<EmailTaken>()("EmailTaken", {}) {}
/** One error for unknown email and wrong password: the page must not reveal which. */
export class InvalidCredentials extends Schema.TaggedError<InvalidCredentials>()("InvalidCredentials", {}) {}
/** The password was right and the account has a second factor: not signed in until it is given. */
export class SecondFactorRequired extends Schema.TaggedError<SecondFactorRequired>()("SecondFactorRequired", { accountId: Schema.String }) {}

export interface Credentials {
  readonly email: string;
  readonly password: string;
  readonly clientId: string | null;
}

export const signUp = Effect.fn("signUp")(function* (input: Credentials, meta: RequestMeta) {
  const accounts = yield* Accounts;
  const passwords = yield* Passwords;
  const email = normalizeEmail(input.email);
  const badEmail = emailProblem(email);
  if (badEmail) return yield* new InvalidEmail({ message: badEmail });
  const badPassword = passwordProblem(input.password, email);
  if (badPassword) return yield* new WeakPassword({ message: badPassword });

  const password = yield* passwords.hash(input.password);
  const accountId = crypto.randomUUID();
  // The email index is the single arbiter of uniqueness: of two racing sign-ups, one claims.
  const claim = yield* accounts.claimEmail(email, accountId, meta.at);
  if (!claim.claimed) return yield* new EmailTaken();
  const registered = yield* accounts.register(
    { accountId, email, password, isAdmin: accounts.adminEmails.has(email) },
    meta,
  );
  if (!registered.ok) return yield* Effect.die(new Error(`registration refused: ${registered.message}`));
  // Signing up signs you in: the session that follows starts from this login.
  yield* accounts.recordLogin(accountId, true, input.clientId, meta);
  return (yield* accounts.view(accountId))!;
});

export const signIn = Effect.fn("signIn")(function* (input: Credentials, meta: RequestMeta) {
  const accounts = yield* Accounts;
  const passwords = yield* Passwords;
  const email = normalizeEmail(input.email);
  const accountId = emailProblem(email) === null ? yield* accounts.accountIdFor(email) : null;
  const stored = accountId === null ? null : yield* accounts.passwordHash(accountId);
  // Verify even when there is no account, so response time does not reveal whether it exists.
  const matches = yield* passwords.verify(input.password, stored);
  if (accountId === null || stored === null) return yield* new InvalidCredentials();
  // The object re-checks that the hash we verified is still the account's (a password change may
  // have committed during the scrypt work): the old password never signs in after the change.
  const recorded = yield* accounts.recordLogin(accountId, matches, input.clientId, meta, stored.hash);
  // A locked account refuses even the right password (LoginFailed "account_locked"); the
  // page says the same thing either way, so a lockout reveals neither account nor password.
  if (recorded.ok && recorded.events.some((e) => e.data._tag === "PasswordVerified")) return yield* new SecondFactorRequired({ accountId });
  const succeeded = recorded.ok && recorded.events.some((e) => e.data._tag === "LoginSucceeded");
  if (!succeeded) return yield* new InvalidCredentials();
  const view: AccountView | null = yield* accounts.view(accountId);
  if (!view) return yield* new InvalidCredentials();
  return view;
});
