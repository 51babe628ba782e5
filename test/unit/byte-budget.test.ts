import { describe, expect, it } from "vitest";
import { ByteBudget } from "../../src/ingest/byte-budget.js";

describe("ByteBudget (request bytes held at once)", () => {
  it("takes what fits at once; the rest waits and starts in arrival order as bytes come back", () => {
    const budget = new ByteBudget(100);
    const started: string[] = [];
    expect(budget.tryTake(60)).toBe(true);
    expect(budget.tryTake(60)).toBe(false);
    const b = budget.wait(60, () => started.push("b"));
    expect(budget.tryTake(30)).toBe(false); // would fit, but may not pass b
    const c = budget.wait(30, () => started.push("c"));
    expect([budget.reserved, budget.queued]).toEqual([60, 2]);
    budget.give(60);
    expect(started).toEqual(["b", "c"]);
    expect([b.started, c.started]).toEqual([true, true]);
    expect([budget.reserved, budget.queued]).toEqual([90, 0]);
    budget.leave(b);
    budget.leave(c);
    expect([budget.reserved, budget.queued]).toEqual([0, 0]);
  });

  it("lets a request larger than the whole budget go alone", () => {
    const budget = new ByteBudget(100);
    const started: string[] = [];
    expect(budget.tryTake(500)).toBe(true);
    expect(budget.tryTake(1)).toBe(false);
    budget.wait(1, () => started.push("small"));
    budget.give(500);
    expect(started).toEqual(["small"]);
    expect(budget.reserved).toBe(1);
  });

  it("drops a request that gives up while waiting, and starts the one behind it", () => {
    const budget = new ByteBudget(100);
    const started: string[] = [];
    expect(budget.tryTake(100)).toBe(true);
    const gone = budget.wait(50, () => started.push("gone"));
    const next = budget.wait(50, () => started.push("next"));
    budget.leave(gone); // its sender disconnected before its turn
    expect([gone.started, budget.queued]).toEqual([false, 1]);
    budget.give(100);
    expect(started).toEqual(["next"]);
    budget.leave(next);
    expect([budget.reserved, budget.queued]).toEqual([0, 0]);
  });
});
