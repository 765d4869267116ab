import { describe, expect, it } from "vitest";
import { idleText } from "../../bot/notify/format.ts";

/** Trial finding 4: after `scale! hello local web=0` nothing listens; the summary must not say "serving" or "reachable". */
describe("idleText: what a deployment that left no listening proc says", () => {
  it.each<[string, Parameters<typeof idleText>, string]>([
    ["the trial's scale to 0", ["hello", "local", { pool: "hello_local", zeroed: ["web"] }, "http://127.0.0.1:8080", false], "hello local now runs no procs; nothing serves http://127.0.0.1:8080, its pool hello_local is empty (scale hello local web=N to bring it back)"],
    ["no url", ["hello", "local", { pool: "hello_local", zeroed: ["web"] }, undefined, false], "hello local now runs no procs; its pool hello_local is empty (scale hello local web=N to bring it back)"],
    ["workers still run", ["hello", "local", { pool: "hello_local", zeroed: ["web"] }, undefined, true], "hello local now runs no listening procs; its pool hello_local is empty (scale hello local web=N to bring it back)"],
    ["not a scale", ["hello", "local", { pool: "hello_local", zeroed: [] }, "http://x", false], "hello local now runs no procs; nothing serves http://x, its pool hello_local is empty"],
  ])("%s", (_, args, text) => {
    expect(idleText(...args)).toBe(text);
  });
});
