import { existsSync, readFileSync } from "node:fs";
import { relative } from "node:path";
import { describe, expect, it } from "vitest";
import { goldenCases } from "../golden/cases.js";
import { REPO_ROOT } from "../helpers/fixtures.js";
import { shippedKnowledgeBase } from "../helpers/knowledge.js";

describe("golden files", () => {
  for (const golden of goldenCases(shippedKnowledgeBase())) {
    const name = relative(REPO_ROOT, golden.path);
    it(`renders ${name} as it was reviewed`, () => {
      expect(existsSync(golden.path), `${name} is missing: write it with npm run golden and review it`).toBe(
        true,
      );
      expect(golden.render()).toBe(readFileSync(golden.path, "utf8"));
    });
  }
});
