// Passwords service: memory-hard hashing (src/password.ts) behind an interface, so the
// sign-in workflow reads as what it does, and timing stays uniform for unknown emails.

import { Context, Effect, Layer } from "effect";
import { decoyHash, hashPassword, verifyPassword, type PasswordHash } from "../password.ts";

export interface PasswordsShape {
  readonly hash: (password: string) => Effect.Effect<PasswordHash>;
  /** Verifies against `stored`, or against a decoy hash when there is none (same cost). */
  readonly verify: (password: string, stored: PasswordHash | null) => Effect.Effect<boolean>;
}

export class Passwords extends Context.Service<Passwords, PasswordsShape>()("warden/Passwords") {}

export const passwordsLayer = Layer.succeed(
  Passwords,
  Passwords.of({
    hash: (password) => Effect.promise(() => hashPassword(password)),
    verify: (password, stored) =>
      Effect.promise(async () => {
        const matches = await verifyPassword(password, stored ?? (await decoyHash()));
        return stored !== null && matches;
      }),
  }),
);
