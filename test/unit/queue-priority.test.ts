import { describe, expect, it } from "vitest";
import { PRIORITIES } from "../../src/falco/priority.js";
import { POST_PRIORITIES, postPriority, updatePriority } from "../../src/queue/priority.js";

const URGENT = ["Emergency", "Alert", "Critical"] as const;
const OTHERS = ["Error", "Warning", "Notice", "Informational", "Debug"] as const;

describe("the order of a channel's delivery jobs (BullMQ priorities, lowest first)", () => {
  it("ranks first messages in Falco's order, most severe first", () => {
    const ranks = PRIORITIES.map(postPriority);
    expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
    expect(new Set(ranks).size).toBe(PRIORITIES.length);
    // BullMQ takes 1 to 2,097,152; 0 would put the job on the plain wait list, ahead of every rank.
    for (const r of ranks) expect(r).toBeGreaterThanOrEqual(1);
  });

  it("puts every update behind every first message of Critical and higher", () => {
    for (const group of PRIORITIES)
      for (const post of URGENT) expect(updatePriority(group)).toBeGreaterThan(postPriority(post));
  });

  it("puts a Critical group's counter ahead of new Error and lower alerts, and other counters last", () => {
    for (const group of URGENT)
      for (const post of OTHERS) expect(updatePriority(group)).toBeLessThan(postPriority(post));
    for (const group of OTHERS)
      for (const post of PRIORITIES) expect(updatePriority(group)).toBeGreaterThan(postPriority(post));
  });

  it("gives updates ranks no first message has, so that waiting posts can be counted by rank", () => {
    for (const group of PRIORITIES) expect(POST_PRIORITIES).not.toContain(updatePriority(group));
    expect([...POST_PRIORITIES].sort()).toEqual(PRIORITIES.map(postPriority).sort());
  });
});
