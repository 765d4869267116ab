import { describe, expect, it } from "vitest";
import { routingView } from "../../bot/answers/routing.ts";

const live = [
  { name: "web-7000", host: "10.0.0.1", port: 7000 },
  { name: "web-7001", host: "10.0.0.1", port: 7001 },
  { name: "worker", host: "10.0.0.1", port: null },
];

describe("status: what the balancer routes next to the procs", () => {
  it("every proc routed and nothing else: no marks", () => {
    const v = routingView("edge", "nginx", "hello_prod", ["10.0.0.1:7000", "10.0.0.1:7001"], live);
    expect(v.line).toBe("routed by edge (nginx), pool hello_prod: 10.0.0.1:7000, 10.0.0.1:7001");
    expect([...v.notRouted]).toEqual([]);
  });

  it("marks a running proc the pool does not list, and a node no proc serves; a worker (no port) is never marked", () => {
    const v = routingView("edge", "nginx", "hello_prod", ["10.0.0.1:7000", "10.0.0.9:80"], live);
    expect(v.line).toBe("routed by edge (nginx), pool hello_prod: 10.0.0.1:7000, 10.0.0.9:80 (no proc)");
    expect([...v.notRouted]).toEqual(["web-7001"]);
  });

  it("an empty pool says so; every proc with a port is not routed", () => {
    const v = routingView("edge", "nginx", "hello_prod", [], live);
    expect(v.line).toBe("routed by edge (nginx), pool hello_prod: no nodes");
    expect([...v.notRouted].sort()).toEqual(["web-7000", "web-7001"]);
  });

  it("a balancer that cannot be read is reported, and marks nothing", () => {
    const v = routingView("edge", "nginx", "hello_prod", "balancer edge on lb1: cannot reach host lb1", live);
    expect(v.line).toBe("routed by edge (nginx), pool hello_prod: unknown (balancer edge on lb1: cannot reach host lb1)");
    expect(v.notRouted.size).toBe(0);
  });
});
