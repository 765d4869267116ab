import { describe, expect, it } from "vitest";
import { answerMessage } from "../../bot/notify/blocks.ts";
import { SLACK_LIMITS, type Block } from "../../bot/notify/block-kit.ts";
import { blocksTextLength, fitAnswer, fitsOneMessage, guardMessage, sizeText } from "../../bot/notify/message-fit.ts";

/** Every limit Slack puts on one message (block-kit.ts SLACK_LIMITS, with their sources). */
function expectOneSlackMessage(m: { text: string; blocks: Block[] }) {
  expect(m.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
  for (const b of m.blocks) if (b.type === "section") expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
  expect(blocksTextLength(m.blocks)).toBeLessThanOrEqual(SLACK_LIMITS.blocksText);
  expect(m.text.length).toBeLessThanOrEqual(SLACK_LIMITS.messageText);
  expect(fitsOneMessage(m)).toBe(true);
}
const shown = (blocks: Block[]) => blocks.map((b) => (b.type === "section" ? b.text.text : b.type === "context" ? b.elements.map((e) => e.text).join(" ") : "")).join("\n");

/** A 128 kB log: 1600 lines of 80 characters, which the old renderer posted as 43+ sections. */
const bigLog = Array.from({ length: 1600 }, (_, i) => `${String(i).padStart(5, "0")} ${"x".repeat(74)}`).join("\n");
/** `releases` of many releases: 2000 lines of ~64 characters. */
const manyReleases = Array.from({ length: 2000 }, (_, i) => `  v${2000 - i}  2026-11-29 12:00  deploy of main at 3f2a1c9  by U0ALICE`).join("\n");

// Issue 11 item 9: a reply larger than a message can hold is never sent as one oversized message.
describe("fitAnswer: any answer becomes one message within Slack's limits", () => {
  it.each<[string, string, "head" | "tail", string | undefined, { first: boolean; last: boolean; note: RegExp | undefined }]>([
    ["a 128 kB log keeps its tail, says what was cut and how to see it", bigLog, "tail", "`logs hello local web 50` shows fewer lines.", { first: false, last: true, note: /^_… \d+ earlier lines \(\d+ kB\) not shown\. `logs hello local web 50` shows fewer lines\._$/ }],
    ["many releases keep the newest (the head)", manyReleases, "head", "Narrow the question to see the rest.", { first: true, last: false, note: /^_… \d+ more lines \(\d+ kB\) not shown\. Narrow the question to see the rest\._$/ }],
    ["a short answer is sent whole, with no note", "web.1  app1:5001  RUNNING", "head", undefined, { first: true, last: true, note: undefined }],
  ])("%s", (_, text, keep, more, want) => {
    const m = fitAnswer("logs of hello local", text, { keep, ...(more ? { more } : {}) });
    expectOneSlackMessage(m);
    const lines = text.split("\n");
    const body = shown(m.blocks);
    expect(body.includes(lines[0]!)).toBe(want.first);
    expect(body.includes(lines.at(-1)!)).toBe(want.last);
    const notes = m.blocks.filter((b) => b.type === "context").map((b) => (b.type === "context" ? b.elements[0]!.text : ""));
    if (want.note) {
      expect(notes).toHaveLength(1);
      expect(notes[0]).toMatch(want.note);
      // What the note counts is what is missing: kept lines + cut lines = all lines.
      const kept = lines.filter((l) => body.includes(l)).length;
      expect(kept + m.cut!.lines).toBe(lines.length);
    } else {
      expect(notes).toEqual([]);
      expect(m.cut).toBeUndefined();
    }
  });

  it("a single line longer than a section is clipped, not refused", () => {
    const m = fitAnswer("config of hello local", `BLOB=${"y".repeat(9000)}`);
    expectOneSlackMessage(m);
    expect(shown(m.blocks)).toContain("BLOB=yyy");
  });

  it("text that is Slack markup is escaped, and the escaping counts toward the budget", () => {
    const m = fitAnswer("logs", Array.from({ length: 3000 }, () => "<!channel> & <@U1>").join("\n"), { keep: "tail" });
    expectOneSlackMessage(m);
    expect(shown(m.blocks)).not.toContain("<!channel>");
    expect(shown(m.blocks)).toContain("&lt;!channel&gt; &amp; &lt;@U1&gt;");
  });

  it("an answer whose file was uploaded says where the whole text is", () => {
    const m = answerMessage({ kind: "answer", title: "logs of hello local", text: bigLog, overflow: { keep: "tail", more: "ask for less", file: "logs-hello-local.txt" } }, "logs-hello-local.txt");
    expectOneSlackMessage(m);
    expect(shown(m.blocks)).toContain("The whole text is in the file `logs-hello-local.txt` in this conversation.");
  });

  it.each([
    [340, "340 B"],
    [1234, "1.2 kB"],
    [128_000, "128 kB"],
  ])("sizeText(%d) = %s", (n, text) => expect(sizeText(n)).toBe(text));
});

describe("guardMessage: the last check before anything is posted", () => {
  it("passes a message that fits unchanged", () => {
    const m = { text: "ok", blocks: [{ type: "section", text: { type: "mrkdwn", text: "fine" } }] as Block[] };
    expect(guardMessage(m)).toEqual(m);
  });

  it("cuts 60 sections of 2 kB (120 kB) to what one message holds, with a note", () => {
    const blocks: Block[] = Array.from({ length: 60 }, (_, i) => ({ type: "section", text: { type: "mrkdwn", text: `${i} ${"z".repeat(2000)}` } }));
    const m = guardMessage({ text: "t".repeat(50_000), blocks });
    expectOneSlackMessage(m);
    expect(shown(m.blocks)).toMatch(/… \d+ more parts of this message not shown/);
    expect(m.text.length).toBe(SLACK_LIMITS.fallbackText);
  });
});
