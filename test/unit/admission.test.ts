import { describe, expect, it } from "vitest";
import { admissionLimitsFromEnv, busyText, WorkGate } from "../../bot/admission.ts";
import { Coalescer } from "../../lib/coalesce.ts";

describe("WorkGate: commands answered at once, per person and overall", () => {
  it("a person past their limit is refused while others are still admitted", () => {
    const gate = new WorkGate({ perUser: 2, overall: 10 });
    const a1 = gate.enter("U_A");
    const a2 = gate.enter("U_A");
    const a3 = gate.enter("U_A");
    expect([a1.ok, a2.ok, a3.ok]).toEqual([true, true, false]);
    expect(a3).toEqual({ ok: false, limit: "user", inFlight: 2 });
    expect(gate.enter("U_B").ok).toBe(true);
    if (a1.ok) a1.done();
    expect(gate.enter("U_A").ok).toBe(true);
  });

  it("the whole bot past its limit refuses everyone, and admits again as answers are sent", () => {
    const gate = new WorkGate({ perUser: 5, overall: 3 });
    const held = ["U_A", "U_B", "U_C"].map((u) => gate.enter(u));
    expect(gate.enter("U_D")).toEqual({ ok: false, limit: "overall", inFlight: 3 });
    const first = held[0]!;
    if (first.ok) {
      first.done();
      first.done(); // a second call must not free a second slot
    }
    expect(gate.inFlight).toBe(2);
    expect(gate.enter("U_D").ok).toBe(true);
    expect(gate.enter("U_E").ok).toBe(false);
  });

  it.each([
    [{ ok: false, limit: "user", inFlight: 5 } as const, "Raptor is busy: you already have 5 commands being answered. Nothing was started for this one; send it again in a few seconds."],
    [{ ok: false, limit: "overall", inFlight: 100 } as const, "Raptor is busy: it is answering 100 commands at once. Nothing was started for this one; send it again in a few seconds."],
  ])("busy text for %o", (refused, text) => {
    expect(busyText(refused)).toBe(text);
  });

  it.each([
    [{}, { perUser: 5, overall: 100 }],
    [{ RAPTOR_BOT_MAX_PER_USER: "2", RAPTOR_BOT_MAX_IN_FLIGHT: "40" }, { perUser: 2, overall: 40 }],
    [{ RAPTOR_BOT_MAX_PER_USER: "0", RAPTOR_BOT_MAX_IN_FLIGHT: "lots" }, { perUser: 5, overall: 100 }],
  ])("limits from the environment %o", (env, limits) => {
    expect(admissionLimitsFromEnv(env)).toEqual(limits);
  });
});

describe("Coalescer: identical reads within the window share one answer", () => {
  it("1000 identical calls in flight load once and all get the answer", async () => {
    const c = new Coalescer<string>(1000);
    let loads = 0;
    const answers = await Promise.all(Array.from({ length: 1000 }, () => c.get("status web production", async () => (loads++, "v4"))));
    expect(loads).toBe(1);
    expect(new Set(answers)).toEqual(new Set(["v4"]));
  });

  it("an answer is shared for the window after it settled, then read afresh", async () => {
    let t = 0;
    const c = new Coalescer<number>(1000, () => t);
    let loads = 0;
    const load = async () => ++loads;
    expect(await c.get("k", load)).toBe(1);
    t = 999;
    expect(await c.get("k", load)).toBe(1);
    t = 2001;
    expect(await c.get("k", load)).toBe(2);
    expect(await c.get("other", load)).toBe(3);
  });

  it("a failure is shared by the callers waiting on it, then forgotten", async () => {
    const c = new Coalescer<string>(1000);
    let loads = 0;
    const failing = () => c.get("k", async () => (loads++, Promise.reject(new Error("host down"))));
    const both = await Promise.allSettled([failing(), failing()]);
    expect(both.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(loads).toBe(1);
    expect(await c.get("k", async () => "up again")).toBe("up again");
  });
});
