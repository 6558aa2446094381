import { defineConfig } from "vitest/config";

// Three projects so a reader (and CI) can run the fast ones alone:
//  unit         pure code and in-process fakes, seconds
//  integration  real containerd instances started by test/harness
//  slow         real QEMU guests under TCG (minutes); still run by CI
//  arm64        the arm64 test guest emulated on this host (npm run test:arm64; needs dpkg
//               multi-arch arm64, so only that script sets it up and runs it)
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: [
            "shim/**/*.test.ts",
            "launcher/**/*.test.ts",
            "deploy/**/*.test.ts",
            "bench/**/*.test.ts",
            "test/unit/**/*.test.ts",
          ],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "slow",
          include: ["test/slow/**/*.test.ts", "test/e2e/**/*.test.ts"],
          testTimeout: 900_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "arm64",
          include: ["test/arm64/**/*.test.ts"],
          testTimeout: 900_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
