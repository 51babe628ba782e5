import { describe, expect, it } from "vitest";
import { dictionaryKey, explainField } from "../../src/enrich/fields.js";
import { shippedKnowledgeBase } from "../helpers/knowledge.js";
import { lintKnowledgeBase } from "../../src/enrich/lint.js";
import { HAVE_SHARED } from "../helpers/shared-corpus.js";
import { APPENDED_SYSCALL_FIELDS, corpusRules } from "../helpers/synthetic-alert.js";

const kb = shippedKnowledgeBase();

describe("the field dictionary", () => {
  it("reads notable values as the issue asks, and says nothing it cannot know", () => {
    expect(explainField("user.loginuid", -1, kb.fields).readings.join(" ")).toMatch(/No login session/);
    expect(explainField("proc.tty", 0, kb.fields).readings.join(" ")).toMatch(/No terminal/);
    expect(explainField("proc.tty", 34816, kb.fields).readings.join(" ")).toMatch(/Attached to a terminal/);
    expect(explainField("proc.exepath", "memfd:program", kb.fields).readings.join(" ")).toMatch(
      /anonymous in-memory file/,
    );
    expect(explainField("proc.exepath", "/usr/bin/bash", kb.fields).readings).toEqual([]);
    const unknown = explainField("proc.exepath", "<NA>", kb.fields);
    expect(unknown.value).toBeNull();
    expect(unknown.readings).toEqual([]);
    expect(explainField("no.such.field", "x", kb.fields).meaning).toBeNull();
  });

  it("describes indexed fields under their base name", () => {
    expect(dictionaryKey("proc.aname[3]", kb.fields)).toBe("proc.aname");
    expect(dictionaryKey("nope[1]", kb.fields)).toBeNull();
  });

  it("is checked by the safety lint like the entries", () => {
    const poisoned = {
      ...kb,
      entries: [],
      fields: new Map([["x.y", { label: "X", meaning: "Fix it with setenforce 0 first.", readings: [] }]]),
    };
    expect(lintKnowledgeBase(poisoned)).toContain("fields: x.y: turns SELinux enforcement off");
    expect(lintKnowledgeBase({ ...kb, entries: [] })).toEqual([]);
  });
});

describe.skipIf(!HAVE_SHARED)(
  "the field dictionary against the official rules (skipped when ../shared/falco is absent)",
  () => {
    it("explains every field in the outputs of the official rules, and those Falco appends", () => {
      const fields = new Set([
        ...corpusRules().flatMap((r) => r.fields),
        ...APPENDED_SYSCALL_FIELDS,
        "evt.time",
      ]);
      expect(fields.size).toBeGreaterThan(150);
      const missing = [...fields].filter((f) => dictionaryKey(f, kb.fields) === null).sort();
      expect(missing).toEqual([]);
    });
  },
);
