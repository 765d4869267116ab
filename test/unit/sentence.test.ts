import { describe, expect, it } from "vitest";
import { cutAtWord, firstSentence, withoutExamples } from "../../lib/sentence.ts";

/** New-user trial, finding 10: `deploys` cut reasons after "e.g" and mid-word. */
describe("firstSentence", () => {
  it.each([
    ["you may not deploy hello local. Who may: @leads.", "you may not deploy hello local."],
    ['"FOO" has no value: write KEY=VALUE, e.g. `LOG_LEVEL=debug` (to remove a key, use `config unset`).', '"FOO" has no value: write KEY=VALUE, e.g. `LOG_LEVEL=debug` (to remove a key, use `config unset`).'],
    ["i.e. Nothing. Then more.", "i.e. Nothing."],
    ["ships `v1. Not` a sentence end. Next.", "ships `v1. Not` a sentence end."],
    ["frozen (a - b, UTC). `deploy! x` skips it.", "frozen (a - b, UTC)."],
    ["no end mark", "no end mark"],
  ])("%s", (text, first) => expect(firstSentence(text)).toBe(first));
});

describe("withoutExamples", () => {
  it.each([
    ['"FOO" has no value: write KEY=VALUE, e.g. `LOG_LEVEL=debug` (to remove a key, use `config unset`).', '"FOO" has no value: write KEY=VALUE.'],
    ["config set hello local needs KEY=VALUE pairs, e.g. `config set hello local LOG_LEVEL=debug`.", "config set hello local needs KEY=VALUE pairs."],
    ["pick a proc type (e.g. `web`) and a count.", "pick a proc type and a count."],
    ["nothing to drop here.", "nothing to drop here."],
  ])("%s", (text, out) => expect(withoutExamples(text)).toBe(out));
});

describe("cutAtWord", () => {
  const long = "config set: PORT is set by Raptor for every proc, over any config of that name; pick another name (Raptor's own: HOST, PORT, APP_SETTINGS_YAML, RAPTOR_APP, RAPTOR_ENV, RAPTOR_RELEASE, RAPTOR_PROC_TYPE, RAPTOR_PROC)";
  it.each([
    ["short", 200, "short"],
    [long, 200, "config set: PORT is set by Raptor for every proc, over any config of that name; pick another name"],
    ["alpha beta gamma delta", 13, "alpha beta…"],
    ["run `deploy hello local now` please", 22, "run…"],
    ["a, b, c, d", 8, "a, b, c…"],
  ])("%s in %i", (text, max, out) => {
    expect(cutAtWord(text, max)).toBe(out);
    expect(cutAtWord(text, max).length).toBeLessThanOrEqual(max);
  });
});
