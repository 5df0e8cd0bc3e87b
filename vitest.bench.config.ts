import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// `npm run bench`: measurements inside workerd, each beside its baseline in the same run.
// They print tables and ratios; they assert nothing about time.
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: { bindings: { SNAPSHOT_EVERY: "1000", THROTTLE_BURST: "100000", THROTTLE_PER_MINUTE: "100000" } },
    }),
  ],
  test: {
    include: ["bench/**/*.bench.test.ts"],
    testTimeout: 900_000,
    hookTimeout: 900_000,
    fileParallelism: false,
  },
});
