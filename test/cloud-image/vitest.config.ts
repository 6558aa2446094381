// `npm run test:cloud-image`: the cloud image booted through hydra-launcher under TCG. Tens of
// minutes on 2 cores, so not one of vitest.config.ts's projects (CI's budget); run it on purpose.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    name: "cloud-image",
    include: ["test/cloud-image/**/*.test.ts"],
    testTimeout: 5 * 3_600_000, // up may wait 4 h on a loaded machine (boot.test.ts)
    hookTimeout: 3_600_000,
    fileParallelism: false,
  },
});
