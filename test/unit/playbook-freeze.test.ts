import { describe, expect, it } from "vitest";
import { activeFreeze, isFrozen, parseFreezeWindow } from "../../playbooks/freeze.ts";
import { formatDuration, parseDuration } from "../../playbooks/duration.ts";

const H = 60;
const D = 24 * H;

describe("parseFreezeWindow", () => {
  const ok: [string, { kind: string; start: number; end: number }][] = [
    ["Sat", { kind: "weekly", start: 5 * D, end: 6 * D }],
    ["sunday", { kind: "weekly", start: 6 * D, end: 0 }],
    ["Sat - Sun", { kind: "weekly", start: 5 * D, end: 0 }],
    ["Sat-Sun", { kind: "weekly", start: 5 * D, end: 0 }],
    ["Fri 16:00 - Mon 08:00", { kind: "weekly", start: 4 * D + 16 * H, end: 8 * H }],
    ["Fri 16:00 – Mon 08:00", { kind: "weekly", start: 4 * D + 16 * H, end: 8 * H }],
    ["Sat 00:00 - Sun 23:59", { kind: "weekly", start: 5 * D, end: 6 * D + 23 * H + 59 }],
    ["Mon 09:00 - Mon 17:00", { kind: "weekly", start: 9 * H, end: 17 * H }],
    ["Fri 16:00 - 23:00", { kind: "weekly", start: 4 * D + 16 * H, end: 4 * D + 23 * H }],
    ["Sun 22:00 - 02:00", { kind: "weekly", start: 6 * D + 22 * H, end: 2 * H }],
    ["Fri 16:00 - Sun 24:00", { kind: "weekly", start: 4 * D + 16 * H, end: 0 }],
    ["18:00 - 08:00", { kind: "daily", start: 18 * H, end: 8 * H }],
    ["2024-12-24", { kind: "dates", start: Date.UTC(2024, 11, 24), end: Date.UTC(2024, 11, 25) }],
    ["2024-12-20 - 2025-01-02", { kind: "dates", start: Date.UTC(2024, 11, 20), end: Date.UTC(2025, 0, 3) }],
    ["2024-12-24 12:00 - 2024-12-26 08:00", { kind: "dates", start: Date.UTC(2024, 11, 24, 12), end: Date.UTC(2024, 11, 26, 8) }],
  ];
  it.each(ok)("%s", (text, expected) => {
    expect(parseFreezeWindow(text)).toEqual({ ok: true, window: { ...expected, text: text.trim() } });
  });

  const bad: [string, string][] = [
    ["", "it is empty"],
    ["Fir 16:00 - Mon 08:00", 'unknown day "Fir". Did you mean `Fri`?'],
    ["Someday", 'unknown day "Someday"'],
    ["Fri 25:00 - Mon 08:00", '"25:00" is not a time (write HH:MM, 00:00 to 24:00)'],
    ["Fri 16:60 - Mon 08:00", '"16:60" is not a time (write HH:MM, 00:00 to 24:00)'],
    ["Fri 4pm - Mon 08:00", '"4pm" is not a time (write HH:MM, 00:00 to 24:00)'],
    ["Fri 16:00", 'a window with a time needs an end, like "Fri 16:00 - Mon 08:00"'],
    ["Mon 08:00 - Mon 08:00", "it ends where it starts"],
    ["08:00 - 08:00", "it ends where it starts"],
    ["2024-12-26 - 2024-12-24", "it ends before it starts"],
    ["2024-02-30", '"2024-02-30" is not a date'],
    ["Fri - 2024-12-24", "both ends must be days (Fri 16:00), dates (2024-12-24) or times (18:00)"],
    ["Mon - Tue - Wed", "it has more than one dash"],
  ];
  it.each(bad)("%j is refused", (text, error) => {
    expect(parseFreezeWindow(text)).toEqual({ ok: false, error });
  });
});

describe("isFrozen", () => {
  // 2024-06-07 is a Friday.
  const at = (iso: string) => new Date(`${iso}Z`);
  const cases: [string[], string, boolean][] = [
    [["Fri 16:00 - Mon 08:00"], "2024-06-07T15:59:59", false],
    [["Fri 16:00 - Mon 08:00"], "2024-06-07T16:00:00", true],
    [["Fri 16:00 - Mon 08:00"], "2024-06-09T12:00:00", true], // Sunday
    [["Fri 16:00 - Mon 08:00"], "2024-06-10T07:59:59", true], // Monday morning, wrapped
    [["Fri 16:00 - Mon 08:00"], "2024-06-10T08:00:00", false], // the end is exclusive
    [["Fri 16:00 - Mon 08:00"], "2024-06-12T12:00:00", false], // Wednesday
    [["Sat"], "2024-06-08T00:00:00", true],
    [["Sat"], "2024-06-08T23:59:59", true],
    [["Sat"], "2024-06-09T00:00:00", false],
    [["Sat 00:00 - Sun 23:59"], "2024-06-09T23:58:00", true],
    [["Sat 00:00 - Sun 23:59"], "2024-06-10T00:00:00", false],
    [["Sat - Sun"], "2024-06-09T23:59:59", true],
    [["18:00 - 08:00"], "2024-06-12T03:00:00", true],
    [["18:00 - 08:00"], "2024-06-12T12:00:00", false],
    [["2024-12-20 - 2025-01-02"], "2025-01-02T23:00:00", true],
    [["2024-12-20 - 2025-01-02"], "2025-01-03T00:00:00", false],
    [["2024-12-20 - 2025-01-02"], "2024-12-19T23:59:59", false],
    [[], "2024-06-08T12:00:00", false],
    [["Mon", "Sat"], "2024-06-08T12:00:00", true],
  ];
  it.each(cases)("%j at %s -> %s", (windows, iso, frozen) => {
    expect(isFrozen(windows, at(iso))).toBe(frozen);
  });

  it("names the window that froze", () => {
    expect(activeFreeze(["Mon", "Fri 16:00 - Mon 08:00"], at("2024-06-08T12:00:00"))).toBe("Fri 16:00 - Mon 08:00");
    expect(activeFreeze(["Mon"], at("2024-06-08T12:00:00"))).toBeUndefined();
  });

  it("takes parsed windows too", () => {
    const parsed = parseFreezeWindow("Sat");
    if (!parsed.ok) throw new Error(parsed.error);
    expect(isFrozen([parsed.window], at("2024-06-08T12:00:00"))).toBe(true);
  });

  it("throws on a window that was never validated", () => {
    expect(() => isFrozen(["Caturday"], new Date())).toThrow(/Caturday/);
  });
});

describe("durations", () => {
  const cases: [string, number | undefined][] = [
    ["500ms", 500],
    ["5s", 5_000],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["1d", 86_400_000],
    ["1m30s", 90_000],
    ["1.5s", 1_500],
    ["0", 0],
    [" 5s ", 5_000],
    ["5", undefined],
    ["5 s", undefined],
    ["5sec", undefined],
    ["s", undefined],
    ["", undefined],
    ["-5s", undefined],
  ];
  it.each(cases)("%j -> %s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it("formats back", () => {
    expect([0, 500, 90_000, 3_600_000, 3_661_500].map(formatDuration)).toEqual(["0s", "500ms", "1m30s", "1h", "1h1m1s500ms"]);
  });
});
