import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Four projects, one run:
//  - domain: pure specs in Node (no runtime needed, fast)
//  - worker: Durable Objects and the Worker inside workerd via @cloudflare/vitest-plugin
//  - e2e:    black-box flows against a real `wrangler dev` on loopback, driven by real clients
//  - browser: the same server's pages in headless Chromium (playwright-core), keyboard only
export default defineConfig({
  test: {
    // The JSON report is what .ci/run counts from (its last line: "N passed, N failed").
    reporters: ["default", ["json", { outputFile: "test-output/vitest.json" }]],
    projects: [
      { test: { name: "domain", include: ["test/domain/**/*.test.ts"], environment: "node" } },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            // Small snapshot interval so workerd tests cross many snapshot boundaries.
            // Many sign-ups come from one test "address": lift the per-IP throttle here (its
            // own tests run against ThrottleObject and a dedicated wrangler dev).
            miniflare: { bindings: { SNAPSHOT_EVERY: "10", THROTTLE_BURST: "100000", THROTTLE_PER_MINUTE: "100000" } },
          }),
        ],
        test: { name: "worker", include: ["test/worker/**/*.test.ts"] },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        // Headless Chromium (Debian's, installed by `npm ci`: scripts/setup-browser.sh) drives
        // the pages of a real `wrangler dev`: keyboard-only flows, autocomplete, framing, screenshots.
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
