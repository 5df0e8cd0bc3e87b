// EmailIndexObject: the home of email uniqueness. One object per normalized email
// (idFromName(email)), so claims for one address are serialized in one place and no
// global object sees all sign-ups. Layout: claim(id=1, account_id, claimed_at).

import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { hasTable } from "../store/migrations.ts";

// The table is created on the first claim only: a sign-in probe for an unknown address
// reads, finds nothing, and leaves no storage behind.
export class EmailIndexObject extends DurableObject<Env> {
  /** First caller wins; every later caller learns the winner's account id. */
  claim(accountId: string, at: number): { owner: string; claimed: boolean } {
    const current = this.owner();
    if (current) return { owner: current, claimed: current === accountId };
    this.ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS claim (id INTEGER PRIMARY KEY CHECK (id = 1), account_id TEXT NOT NULL, claimed_at INTEGER NOT NULL)",
    );
    this.ctx.storage.sql.exec("INSERT INTO claim (id, account_id, claimed_at) VALUES (1, ?, ?)", accountId, at);
    return { owner: accountId, claimed: true };
  }

  owner(): string | null {
    if (!hasTable(this.ctx.storage.sql, "claim")) return null;
    const row = this.ctx.storage.sql.exec<{ account_id: string }>("SELECT account_id FROM claim WHERE id = 1").toArray()[0];
    return row?.account_id ?? null;
  }
}
