import { defineConfig } from "vitest/config";
import SlowFirstSequencer from "./test/support/slow-first.ts";

export default defineConfig({
  test: {
    // Integration files each start their own host testbed; two cores, so keep forks low.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // The longest files first, so that the run does not end with one fork running a long file alone.
    sequence: { sequencer: SlowFirstSequencer },
    // Unit tests use no database or test bed and leave nothing running (a unit test that starts a
    // process ends it): they share their forks' module graph (isolate: false) instead of importing
    // the same modules again for every file (43 files: 76 s -> 25 s wall on a loaded 2-core
    // machine). Files with beds keep a fresh fork each, and the template database is made for them.
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], isolate: false },
      },
      {
        extends: true,
        test: { name: "beds", include: ["test/**/*.test.ts"], exclude: ["test/unit/**"], globalSetup: ["test/support/global-setup.ts"] },
      },
    ],
  },
});
