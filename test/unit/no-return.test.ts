import { describe, expect, it } from "vitest";
import { currentStep, pastNoReturn, type StepState } from "../../engine/pipeline/no-return.ts";

/** Trial finding 2: when a cancel is too late (routing begun), and which step a note belongs to. */
const steps = (...s: [string, string][]): StepState[] => s.map(([name, status]) => ({ name, status }));

describe("pastNoReturn: a cancel is too late once routing has begun", () => {
  it.each<[string, StepState[], string | undefined]>([
    ["nothing begun", steps(["resolve", "pending"], ["route", "pending"], ["teardown", "pending"]), undefined],
    ["uptest running", steps(["start", "succeeded"], ["uptest", "running"], ["route", "pending"], ["teardown", "pending"]), undefined],
    ["between uptest and route", steps(["uptest", "succeeded"], ["route", "pending"], ["teardown", "pending"]), undefined],
    ["route running", steps(["uptest", "succeeded"], ["route", "running"], ["teardown", "pending"]), "route"],
    ["route done, teardown pending", steps(["uptest", "succeeded"], ["route", "succeeded"], ["teardown", "pending"]), "route"],
    ["teardown running", steps(["route", "succeeded"], ["teardown", "running"]), "teardown"],
    ["restart (one step) running", steps(["restart", "running"]), "restart"],
    ["restart not begun", steps(["restart", "pending"]), undefined],
  ])("%s", (_, s, late) => {
    expect(pastNoReturn(s)).toBe(late);
  });
});

describe("currentStep: the step a cancel note is labelled with", () => {
  it.each<[string, StepState[], string | undefined]>([
    ["the running one", steps(["resolve", "succeeded"], ["build", "succeeded"], ["uptest", "running"]), "uptest"],
    ["between steps: the last ended", steps(["start", "succeeded"], ["uptest", "succeeded"], ["route", "pending"]), "uptest"],
    ["before any: the first", steps(["start", "pending"], ["uptest", "pending"]), "start"],
  ])("%s", (_, s, step) => {
    expect(currentStep(s)).toBe(step);
  });
});
