// Per-IP token buckets (ThrottleObject): a burst, then a steady refill, and an honest
// Retry-After. Time is passed in, so the bucket math is exact.

import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";

beforeAll(warmUp, WARM_UP_TIMEOUT_MS);

const bucketFor = () => env.THROTTLE.get(env.THROTTLE.idFromName(`198.51.100.${Math.floor(Math.random() * 250)}-${crypto.randomUUID()}`));
const policy = { capacity: 3, refillPerSecond: 1 / 6 };

describe("RFC 6585 §4: per-client-IP throttling (token buckets)", () => {
  it("allows a burst of `capacity`, then refuses with the seconds until a token is back", async () => {
    const stub = bucketFor();
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) expect(await stub.take("signin", policy, t0)).toEqual({ allowed: true, retryAfterSeconds: 0 });
    expect(await stub.take("signin", policy, t0)).toEqual({ allowed: false, retryAfterSeconds: 6 });
    expect(await stub.take("signin", policy, t0 + 3_000)).toEqual({ allowed: false, retryAfterSeconds: 3 });
    expect(await stub.take("signin", policy, t0 + 6_000)).toMatchObject({ allowed: true });
  });

  it("keeps separate buckets per action and never refills past capacity", async () => {
    const stub = bucketFor();
    const t0 = 2_000_000;
    for (let i = 0; i < 3; i++) await stub.take("signin", policy, t0);
    expect(await stub.take("signup", policy, t0)).toMatchObject({ allowed: true });
    const later = t0 + 3_600_000; // an hour idle refills to 3, not 600
    for (let i = 0; i < 3; i++) expect(await stub.take("signin", policy, later)).toMatchObject({ allowed: true });
    expect(await stub.take("signin", policy, later)).toMatchObject({ allowed: false });
  });
});
