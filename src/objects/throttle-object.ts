// ThrottleObject: per-client-IP token buckets (one object per IP, idFromName(ip)), for the
// endpoints that cost the server real work or let a client guess: sign-in and sign-up (a
// scrypt hash each) and client registration. Buckets live in memory only: no storage is
// written per request, and an evicted object simply forgets (a fresh, full bucket), which
// errs toward availability. Per-account lockout (domain/lockout.ts) is the durable guard.

import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";

export interface BucketPolicy {
  /** Requests allowed in a burst. */
  readonly capacity: number;
  /** Tokens restored per second. */
  readonly refillPerSecond: number;
}

export class ThrottleObject extends DurableObject<Env> {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** Takes one token from `bucket`; when none is left, says how long until one is back. */
  take(bucket: string, policy: BucketPolicy, now: number): { allowed: boolean; retryAfterSeconds: number } {
    const current = this.buckets.get(bucket) ?? { tokens: policy.capacity, at: now };
    const tokens = Math.min(policy.capacity, current.tokens + ((now - current.at) / 1000) * policy.refillPerSecond);
    if (tokens >= 1) {
      this.buckets.set(bucket, { tokens: tokens - 1, at: now });
      return { allowed: true, retryAfterSeconds: 0 };
    }
    this.buckets.set(bucket, { tokens, at: now });
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / policy.refillPerSecond)) };
  }
}
