import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // test/slow (minutes of training) runs only in `npm run test:slow`.
    include: process.env.DROPOUT_LAB_SLOW ? ["test/slow/**/*.test.ts"] : ["test/**/*.test.ts"],
    exclude: process.env.DROPOUT_LAB_SLOW ? [] : ["test/slow/**", "**/node_modules/**"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
