import { describe, expect, it } from "vitest";
import { neverServedText, type LastAttempt } from "../../engine/never-served.ts";

/** New-user trial, finding 6: what a rollback to a release that never served is refused with. */
describe("neverServedText", () => {
  const anyway = (n: number) => `A rollback goes back to a release that served; to roll back to v${n} anyway, type \`rollback! hello local v${n}\`.`;
  it.each<[number, LastAttempt | undefined, string]>([
    [14, { id: "d-aaaa1111", status: "failed", errorCode: "uptest_failed", failedStep: "uptest" }, `v14 never served hello local: d-aaaa1111 failed at uptest (uptest_failed). ${anyway(14)}`],
    [14, { id: "d-aaaa1111", status: "failed", errorCode: null }, `v14 never served hello local: d-aaaa1111 failed. ${anyway(14)}`],
    [7, { id: "d-bbbb2222", status: "cancelled" }, `v7 never served hello local: d-bbbb2222 was cancelled. ${anyway(7)}`],
    [9, { id: "d-cccc3333", status: "running" }, `v9 has not served hello local yet: d-cccc3333 is still running. ${anyway(9)}`],
    [9, { id: "d-cccc3333", status: "awaiting_approval" }, `v9 has not served hello local yet: d-cccc3333 is still awaiting approval. ${anyway(9)}`],
    [3, undefined, `v3 never served hello local. ${anyway(3)}`],
  ])("v%i after %j", (n, last, text) => expect(neverServedText("hello", "local", n, last)).toBe(text));
});
