// `npm run test:cloud-image`: the cloud image booted through hydra-launcher under TCG. Tens of
// minutes on 2 cores, so not one of vitest.config.ts's projects (CI's budget); run it on purpose.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    name: "cloud-image",
    include: ["test/cloud-image/**/*.test.ts"],
    testTimeout: 5_400_000,
    hookTimeout: 5_400_000,
    fileParallelism: false,
  },
});
