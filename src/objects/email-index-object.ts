// EmailIndexObject: the home of email uniqueness. One object per normalized email
// (idFromName(email)), so claims for one address are serialized in one place and no
// global object sees all sign-ups. Layout: claim(id=1, account_id, claimed_at).

import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { hasTable } from "../store/migrations.ts";

// The table is created on the first claim only: a sign-in probe for an unknown address
// reads, finds nothing, and leaves no storage behind.
export class EmailIndexObject extends DurableObject<Env> {
  /**
   * First caller wins; every later caller learns the winner's account id. A claim whose
   * account never got registered (the sign-up failed between claim and registration) is
   * released to the next sign-up after CLAIM_RECOVERY_MS, so no address is lost for good.
   */
  async claim(accountId: string, at: number): Promise<{ owner: string; claimed: boolean }> {
    const current = this.claimRow();
    if (current && current.account_id !== accountId && at - current.claimed_at > CLAIM_RECOVERY_MS) {
      const registered = await this.env.ACCOUNTS.get(this.env.ACCOUNTS.idFromName(current.account_id)).view();
      const still = this.claimRow();
      if (!registered && still?.account_id === current.account_id) {
        this.ctx.storage.sql.exec("UPDATE claim SET account_id = ?, claimed_at = ? WHERE id = 1", accountId, at);
        return { owner: accountId, claimed: true };
      }
    }
    const owner = this.claimRow();
    if (owner) return { owner: owner.account_id, claimed: owner.account_id === accountId };
    this.ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS claim (id INTEGER PRIMARY KEY CHECK (id = 1), account_id TEXT NOT NULL, claimed_at INTEGER NOT NULL)",
    );
    this.ctx.storage.sql.exec("INSERT INTO claim (id, account_id, claimed_at) VALUES (1, ?, ?)", accountId, at);
    return { owner: accountId, claimed: true };
  }

  owner(): string | null {
    return this.claimRow()?.account_id ?? null;
  }

  private claimRow(): { account_id: string; claimed_at: number } | null {
    if (!hasTable(this.ctx.storage.sql, "claim")) return null;
    return (
      this.ctx.storage.sql
        .exec<{ account_id: string; claimed_at: number }>("SELECT account_id, claimed_at FROM claim WHERE id = 1")
        .toArray()[0] ?? null
    );
  }
}

/** Long past any real sign-up's claim-then-register gap (scrypt runs before the claim). */
export const CLAIM_RECOVERY_MS = 5 * 60 * 1000;
