import { describe, expect, it } from "vitest";
import { readCommandFields } from "../../bot/slack/command-fields.ts";
import { readSignatureHeaders } from "../../bot/slack/replay-guard.ts";

const HEX = "0123456789abcdef".repeat(4);

describe("readSignatureHeaders: Slack's exact v0 form, or refused before anything is stored", () => {
  it.each([
    ["neither header", {}, { kind: "unsigned" }],
    ["Slack's form", { "x-slack-signature": `v0=${HEX}`, "x-slack-request-timestamp": "1764491700" }, { kind: "signed", timestamp: 1764491700, hex: HEX, header: `v0=${HEX}` }],
    ["a 15 KB signature", { "x-slack-signature": `v0=${"x".repeat(15_000)}`, "x-slack-request-timestamp": "1764491700" }, "malformed"],
    ["=a after the hex", { "x-slack-signature": `v0=${HEX}=a`, "x-slack-request-timestamp": "1764491700" }, "malformed"],
    ["== after the hex", { "x-slack-signature": `v0=${HEX}==`, "x-slack-request-timestamp": "1764491700" }, "malformed"],
    ["upper-case hex", { "x-slack-signature": `v0=${HEX.toUpperCase()}`, "x-slack-request-timestamp": "1764491700" }, "malformed"],
    ["the signature repeated", { "x-slack-signature": [`v0=${HEX}`, `v0=${HEX}`], "x-slack-request-timestamp": "1764491700" }, "malformed"],
    ["no signature", { "x-slack-request-timestamp": "1764491700" }, "malformed"],
    ["no timestamp", { "x-slack-signature": `v0=${HEX}` }, "malformed"],
    ["a float timestamp", { "x-slack-signature": `v0=${HEX}`, "x-slack-request-timestamp": "1764491700.5" }, "malformed"],
    ["-Infinity", { "x-slack-signature": `v0=${HEX}`, "x-slack-request-timestamp": "-Infinity" }, "malformed"],
    ["an empty timestamp", { "x-slack-signature": `v0=${HEX}`, "x-slack-request-timestamp": "" }, "malformed"],
  ])("%s", (_name, headers, expected) => {
    const got = readSignatureHeaders(headers);
    if (expected === "malformed") expect(got.kind).toBe("malformed");
    else expect(got).toEqual(expected);
  });
});

describe("readCommandFields: each field Raptor reads is one string", () => {
  const ok = { command: "/raptor", user_id: "U1", user_name: "root", channel_id: "C1", channel_name: "general", text: "apps", response_url: "http://x/r", team_id: "T1" };
  it.each([
    ["all present once", ok, undefined],
    ["text repeated", { ...ok, text: ["apps", "deploy hello local"] }, "the field `text` came 2 times"],
    ["user_id repeated", { ...ok, user_id: ["U1", "U2"] }, "the field `user_id` came 2 times"],
    ["no channel_id", { ...ok, channel_id: undefined }, "the field `channel_id` is missing"],
    ["an empty text (Slack sends one)", { ...ok, text: "" }, undefined],
  ])("%s", (_name, fields, problem) => {
    const got = readCommandFields(fields);
    expect(got.ok ? undefined : got.problem).toBe(problem);
  });
});
