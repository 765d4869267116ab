import { DrizzleQueryError } from "drizzle-orm/errors";
import { describe, expect, it } from "vitest";
import { crashText } from "../../bin/crash-text.ts";

/** What bin/raptor prints when it dies: a query error's reason is in its cause, and must show. */
describe("crashText", () => {
  const tooMany = Object.assign(new Error("sorry, too many clients already"), { code: "53300" });
  const playbook = Object.assign(new Error("pb.yaml:3: squad \"nowhere\" is not defined"), { name: "PlaybookError" });
  const wrapped = new Error("outer", { cause: new Error("middle", { cause: "inner text" }) });
  const looped = new Error("loop");
  looped.cause = looped;
  it.each([
    // A process that met a full Postgres while migrating (seen: four processes started at once beside other tests).
    ["a failed query names its reason", new DrizzleQueryError('CREATE SCHEMA IF NOT EXISTS "drizzle"', [], tooMany), /^Error: Failed query: CREATE SCHEMA IF NOT EXISTS "drizzle"\n[\s\S]*\ncaused by: sorry, too many clients already$/],
    ["a settings mistake is its message alone", playbook, /^pb\.yaml:3: squad "nowhere" is not defined$/],
    ["every cause, each on its line", wrapped, /^Error: outer\n[\s\S]*\ncaused by: middle\ncaused by: inner text$/],
    ["an error that is its own cause is named once", looped, /^Error: loop\n[\s\S]*(?<!caused by: loop)$/],
    ["a thrown string", "just text", /^just text$/],
  ] as const)("%s", (_, err, expected) => {
    expect(crashText(err)).toMatch(expected);
  });
});
