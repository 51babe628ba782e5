import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { enrich } from "../../src/enrich/enrich.js";
import { encodeFalcoString, falcoStringLiteral } from "../../src/enrich/falco-literal.js";
import { type KnowledgeEntry, loadKnowledgeBase } from "../../src/enrich/knowledge.js";
import { fillTuning, placeholdersIn } from "../../src/enrich/placeholders.js";
import type { FalcoAlert } from "../../src/falco/alert.js";
import {
  conditionWithExceptions,
  type FalcoException,
  quoteItem,
  resolveList,
} from "../helpers/falco-loader.js";
import {
  compileFilter,
  fieldTypes,
  HAVE_SYSDIG,
  NO_SYSDIG_REASON,
  withKnownFields,
} from "../helpers/filter-compiler.js";

/*
 * Alert values end up in Falco rules files the team loads. These tests build the condition from each
 * tuning snippet exactly as Falco's loader does (test/helpers/falco-loader.ts) and hand it to
 * libsinsp's real filter compiler: it must compile, and each value must stay one string literal.
 */

const kb = loadKnowledgeBase();
const SKIP_NOTE = HAVE_SYSDIG ? "libsinsp from sysdig" : `skipped: ${NO_SYSDIG_REASON}`;

/** Values an attacker can put in a process name, a path, a pod name or a URI. */
const HOSTILE = [
  "x)or(proc.pid>0",
  'a"b',
  'ends with quote"',
  "back\\slash",
  "\\\\double",
  '\\"escaped quote',
  "/api?timeout=32s",
  "a,b",
  "two words",
  " or ",
  "x) or (proc.name=bash",
  "line\nbreak",
  "tab\tand\rreturn",
  "(",
  ")",
  "=",
  "shell_binaries",
  "a shell_binaries b",
  "ünïcødé ✓",
  "y".repeat(5000),
  "z".repeat(255),
  "memfd:runc",
  "it's",
  "trailing\\",
  "bell\u0007",
  "zero\u200bwidth",
  "",
];

describe("Falco string literals", () => {
  it("write what can be one literal as one, and withhold the rest with a reason", () => {
    const outcome = Object.fromEntries(
      HOSTILE.map((v) => {
        const r = falcoStringLiteral(v);
        return [
          v.length > 40 ? `${v.slice(0, 10)}…` : v,
          "literal" in r ? r.literal : `withheld: ${r.withheld}`,
        ];
      }),
    );
    expect(outcome).toMatchObject({
      'a"b': '"a\\"b"',
      "back\\slash": '"back\\\\slash"',
      "/api?timeout=32s": '"/api?timeout=32s"',
      "a,b": '"a,b"',
      "two words": '"two words"',
      "line\nbreak": '"line\\nbreak"',
      "memfd:runc": '"memfd:runc"',
      shell_binaries: '"shell_binaries"',
      "": '""',
    });
    expect(outcome["x)or(proc.pid>0"]).toMatch(/^withheld: it contains a word \("or"\) between spaces/);
    expect(outcome[" or "]).toMatch(/^withheld: .*\("or"\)/);
    expect(outcome["a shell_binaries b"]).toMatch(/^withheld: .*\("shell_binaries"\).*list/);
    expect(outcome["it's"]).toMatch(/^withheld: it contains a single quote/);
    expect(outcome["trailing\\"]).toMatch(/^withheld: it ends with a backslash/);
    expect(outcome["bell\u0007"]).toMatch(/^withheld: it contains control or invisible characters/);
    expect(outcome["zero\u200bwidth"]).toMatch(/^withheld: it contains control or invisible characters/);
    expect(outcome["yyyyyyyyyy…"]).toMatch(/^withheld: it is longer than 255 bytes/);
    expect(outcome["zzzzzzzzzz…"]).toBe(`"${"z".repeat(255)}"`);
  });
});

describe
  .skipIf(!HAVE_SYSDIG)
  .concurrent(`Falco string literals in libsinsp's compiler (${SKIP_NOTE})`, () => {
    // The encoding itself, for every value the old lexer also reads (no single quote, no trailing backslash).
    const encodable = HOSTILE.filter((v) => !v.includes("'") && !v.endsWith("\\") && v.length <= 255);

    it.each(encodable.map((v) => [v.length > 40 ? `${v.slice(0, 10)}…` : v, v]))(
      "keeps %j one literal in libsinsp's compiler, ending exactly where written",
      async (_label, value) => {
        const literal = encodeFalcoString(value);
        expect(quoteItem(literal)).toBe(literal);
        expect(await compileFilter(`proc.name = ${literal}`)).toEqual({ ok: true });
        // A stray parenthesis right after the literal is the first thing the parser cannot take: the
        // error's position proves that the literal ended there, not earlier.
        const probe = `proc.name = ${literal} )`;
        expect(await compileFilter(probe)).toMatchObject({ ok: false, position: Buffer.byteLength(probe) });
      },
    );

    it("would have let the old quoting turn a value into a clause (the bug this prevents)", async () => {
      // JSON-quoted in YAML, the value reached the loader bare and no space made quote_item wrap it.
      const condition = conditionWithExceptions("evt.type = execve", [
        { fields: ["proc.exepath", "proc.name"], values: [["memfd:runc", "x)or(proc.pid>0"]] },
      ]);
      expect(condition).toBe(
        "(evt.type = execve) and not (( proc.exepath = memfd:runc and  proc.name = x)or(proc.pid>0))",
      );
      expect(await compileFilter(condition)).toEqual({ ok: true });
    });
  });

/**
 * Fields Falco fills from the kernel with addresses, ports, numbers or one of a few names: nobody
 * writes free text into them, and libsinsp refuses a value of the wrong kind.
 */
function typedValue(field: string): string | null {
  const fixed: Record<string, string> = { "fd.l4proto": "tcp", "fd.type": "ipv4", "evt.type": "connect" };
  if (fixed[field]) return fixed[field];
  const type = HAVE_SYSDIG ? fieldTypes().get(field.replace(/\[.*\]$/, "")) : undefined;
  if (type === undefined || type === "CHARBUF" || type === "FSPATH" || type === "FSRELPATH") return null;
  if (type === "IPADDR") return "10.1.2.3";
  if (type === "IPNET") return "10.0.0.0/8";
  return "443";
}

/** The alert every placeholder of the snippet is filled from, each text field with its own value. */
function alertFilling(entry: KnowledgeEntry, values: string[]): FalcoAlert {
  const fields = placeholdersIn(entry.tuning!.snippet);
  return {
    uuid: "9b2f6c1e-3d4a-4b5c-8d6e-7f8091a2b3c4",
    uuidGenerated: false,
    rule: entry.rules[0]!,
    priority: "Warning",
    source: entry.source,
    hostname: "node-1",
    time: "2026-12-05T09:12:03.112233445Z",
    timeDerivedFrom: "alert",
    output: "",
    outputFields: Object.fromEntries(fields.map((f, i) => [f, typedValue(f) ?? values[i % values.length]!])),
    tags: [],
    repairs: [],
  };
}

interface TuningItem {
  rule?: string;
  exceptions?: FalcoException[];
  list?: string;
  items?: string[];
  macro?: string;
  condition?: string;
}

/** The conditions Falco compiles from a filled snippet, and every alert value it carries. */
function conditionsOf(snippet: string): { conditions: string[]; values: string[] } {
  const items = parseYaml(snippet) as TuningItem[];
  const lists = items.filter((i) => i.list).map((i) => ({ name: i.list!, items: i.items! }));
  const conditions: string[] = [];
  const values: string[] = [];
  for (const item of items) {
    if (item.exceptions) {
      conditions.push(conditionWithExceptions("evt.type = execve", item.exceptions));
      for (const ex of item.exceptions) values.push(...(ex.values.flat(2) as string[]));
    }
    if (item.list) {
      conditions.push(`proc.name in (${item.list})`);
      values.push(...item.items!);
    }
    // Falco appends a macro's override to its condition with a space; the rule's own is `(never_true)`.
    if (item.macro) conditions.push(`(evt.num = 0) ${item.condition!}`);
  }
  // Lists resolve in every condition, as in parse_condition; a decoy stands for the team's own lists.
  const resolved = conditions.map((c) =>
    [...lists, { name: "shell_binaries", items: ["bash", "my shell"] }].reduce(
      (acc, l) => resolveList(acc, l.name, l.items),
      c,
    ),
  );
  return { conditions: resolved, values };
}

const tuned = kb.entries.filter((e) => e.tuning && placeholdersIn(e.tuning.snippet).length > 0);

/** Hostile values that can be one literal, cycled through each snippet's placeholders. */
const EMITTED = ['we"ird\\name', "/tmp/a b", "/api?timeout=32s", "line\nbreak", "y".repeat(250), "ünï,cødé"];

describe
  .skipIf(!HAVE_SYSDIG)
  .concurrent(`every knowledge-base tuning snippet, filled with hostile values (${SKIP_NOTE})`, () => {
    it("has snippets to check", () => {
      expect(tuned.length).toBeGreaterThan(50);
    });

    it.each(tuned.map((e) => [e.file, e]))("%s compiles, each value one literal", async (_file, entry) => {
      const offset = tuned.indexOf(entry);
      const alert = alertFilling(entry, [...EMITTED.slice(offset % EMITTED.length), ...EMITTED]);
      const filled = fillTuning(entry.tuning!.snippet, alert);
      expect(filled.withheld).toEqual([]);
      expect(filled.text).not.toBeNull();
      const { conditions, values } = conditionsOf(filled.text!);
      expect(conditions.length).toBeGreaterThan(0);
      for (const value of values.filter((v) => typeof v === "string" && v.startsWith('"'))) {
        expect(quoteItem(value)).toBe(value);
        expect(
          [...EMITTED, "443", "10.1.2.3", "10.0.0.0/8", "tcp", "ipv4", "connect"].map(encodeFalcoString),
        ).toContain(value);
      }
      for (const condition of conditions) {
        const checked = withKnownFields(condition);
        expect({ condition: checked, result: await compileFilter(checked) }).toEqual({
          condition: checked,
          result: { ok: true },
        });
      }
    });

    it.each(tuned.map((e) => [e.file, e]))(
      "%s is withheld, with the reason, for a value that cannot be one literal",
      async (_file, entry) => {
        const e = enrich(alertFilling(entry, ["x)or(proc.pid>0"]), kb);
        expect(e.tuning?.snippet).toBeNull();
        expect(e.tuning?.missing.join(" ")).toMatch(
          /cannot be written as one Falco string: it contains a word \("or"\)/,
        );
      },
    );
  });

describe.skipIf(!HAVE_SYSDIG).concurrent(`the reproductions that asked for this (${SKIP_NOTE})`, () => {
  const entryFor = (rule: string) => kb.byRule.get(rule)!;

  it("a memfd named like runc, with a process name that is a clause, gets no likely verdict and no clause", async () => {
    const entry = entryFor("Fileless execution via memfd_create");
    const alert: FalcoAlert = {
      ...alertFilling(entry, ["unused"]),
      outputFields: {
        "proc.exepath": "memfd:runc",
        "proc.name": "x)or(proc.pid>0",
        "container.id": "3c2b1a0f9e8d",
      },
    };
    const e = enrich(alert, kb);
    expect(e.verdict?.confidence).toBe("possible");
    const { conditions } = conditionsOf(e.tuning!.snippet!);
    expect(conditions).toEqual([
      '(evt.type = execve) and not (( proc.exepath = "memfd:runc" and  container.id = "3c2b1a0f9e8d"))',
    ]);
    expect(await compileFilter(withKnownFields(conditions[0]!))).toEqual({ ok: true });
  });

  it("the URI kubectl sends stays one literal in the Anonymous Request Allowed exception", async () => {
    const entry = entryFor("Anonymous Request Allowed");
    const alert = {
      ...alertFilling(entry, ["unused"]),
      outputFields: { "ka.uri": "/api?timeout=32s", "ka.verb": "get" },
    };
    const { conditions } = conditionsOf(enrich(alert, kb).tuning!.snippet!);
    expect(conditions).toEqual([
      '(evt.type = execve) and not (( ka.uri = "/api?timeout=32s" and  ka.verb = "get"))',
    ]);
    expect(await compileFilter(withKnownFields(conditions[0]!))).toEqual({ ok: true });
  });
});
