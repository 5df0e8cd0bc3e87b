// Per-client-IP throttling in front of costly or guessable endpoints (see ThrottleObject).
// Limits come from wrangler vars so tests and deployments can tune them.

import type { Env } from "../env.ts";
import type { BucketPolicy } from "../objects/throttle-object.ts";

export type ThrottledAction = "signin" | "signup" | "register";

/** Defaults: 10 sign-ins per IP in a burst, then one every 6 s (10 a minute); same for sign-up. */
const DEFAULTS: Record<ThrottledAction, BucketPolicy> = {
  signin: { capacity: 10, refillPerSecond: 1 / 6 },
  signup: { capacity: 10, refillPerSecond: 1 / 6 },
  register: { capacity: 20, refillPerSecond: 1 / 3 },
};

const policyOf = (env: Env, action: ThrottledAction): BucketPolicy => {
  const burst = Number(env.THROTTLE_BURST);
  const perMinute = Number(env.THROTTLE_PER_MINUTE);
  const base = DEFAULTS[action];
  return {
    capacity: Number.isFinite(burst) && burst > 0 ? burst : base.capacity,
    refillPerSecond: Number.isFinite(perMinute) && perMinute > 0 ? perMinute / 60 : base.refillPerSecond,
  };
};

/** The client's IP as Cloudflare reports it; requests without one share a single bucket. */
export const clientIp = (request: Request) => request.headers.get("cf-connecting-ip") ?? "unknown";

/** Null when allowed, else the seconds to wait (for Retry-After, RFC 9110 §10.2.3). */
export async function throttled(env: Env, request: Request, action: ThrottledAction): Promise<number | null> {
  const ip = clientIp(request);
  const stub = env.THROTTLE.get(env.THROTTLE.idFromName(ip));
  const { allowed, retryAfterSeconds } = await stub.take(action, policyOf(env, action), Date.now());
  return allowed ? null : retryAfterSeconds;
}
