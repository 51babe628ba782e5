import fc from "fast-check";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../../support/harness.js";

const sample = JSON.parse(
  readFileSync(new URL("../../examples/terminal-shell.json", import.meta.url), "utf8"),
) as Record<string, unknown>;

/** Values of every JSON type, and strings an attacker would pick. */
const hostile = fc.oneof(
  fc.constantFrom(
    "<!channel>",
    "<@U0123>",
    "<https://evil.example|click>",
    "`",
    "```",
    "\u0000",
    "\uFEFF",
    "${jndi:ldap://x}",
    "%n%s",
    "\\",
    "\n\r\t",
  ),
  fc.string({ maxLength: 300 }),
  fc.string({ unit: "binary", maxLength: 100 }),
);
const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 4 }), hostile, fc.integer(), fc.double(), fc.boolean());

/** A Falco-shaped alert with some fields replaced by anything, some removed, some hostile. */
const mutatedAlert = fc
  .record({
    replace: fc.dictionary(fc.constantFrom(...Object.keys(sample), "uuid", "time", "tags"), anyJson, {
      maxKeys: 3,
    }),
    drop: fc.subarray(Object.keys(sample), { maxLength: 2 }),
    fields: fc.dictionary(hostile, anyJson, { maxKeys: 4 }),
  })
  .map(({ replace, drop, fields }) => {
    const alert: Record<string, unknown> = { ...sample, ...replace };
    for (const key of drop) delete alert[key];
    if (
      typeof alert.output_fields === "object" &&
      alert.output_fields !== null &&
      !Array.isArray(alert.output_fields)
    )
      alert.output_fields = { ...(alert.output_fields as object), ...fields };
    return JSON.stringify(alert);
  });

/** Byte-level damage to a valid body: cut, flipped, inserted. */
const mutatedBytes = fc
  .record({ at: fc.nat(), cut: fc.nat({ max: 40 }), insert: fc.string({ unit: "binary", maxLength: 8 }) })
  .map(({ at, cut, insert }) => {
    const text = JSON.stringify(sample);
    const i = at % text.length;
    return text.slice(0, i) + insert + text.slice(i + cut);
  });

const body = fc.oneof(
  mutatedAlert,
  mutatedBytes,
  anyJson.map((v) => JSON.stringify(v) ?? "null"),
  fc.array(mutatedAlert, { minLength: 1, maxLength: 4 }).map((a) => `[${a.join(",")}]`),
  fc.array(mutatedAlert, { minLength: 1, maxLength: 4 }).map((a) => a.join("\n")),
  fc.string({ unit: "binary", maxLength: 500 }),
);

describe("hostile and malformed bodies (property-based)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("fuzz", { env: { MAX_BODY_BYTES: "65536" } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("answer 202 or a 4xx naming the problem, never crash, and lose none of the valid alerts sent alongside", async () => {
    const validUuids: string[] = [];
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.constantFrom("application/json", "application/x-ndjson"),
        async (text, type) => {
          const res = await h.postAlerts(text, { "content-type": type });
          expect([202, 400, 413]).toContain(res.status);
          const answer = (await res.json()) as { error?: string; uuids?: string[] };
          if (res.status !== 202) expect(answer.error?.length).toBeGreaterThan(0);
          // Every 5th body, a valid alert right after it, which must be stored.
          if (++sent % 5 === 0) {
            const uuid = `f0220000-0000-4000-8000-${String(sent).padStart(12, "0")}`;
            const ok = await h.postAlerts(JSON.stringify({ ...sample, uuid }));
            expect(ok.status).toBe(202);
            validUuids.push(uuid);
          }
        },
      ),
      { numRuns: 400, seed: 20261122 },
    );
    expect((await fetch(`${h.base}/healthz`)).status).toBe(200);
    expect(validUuids.length).toBeGreaterThanOrEqual(80);
    for (const uuid of validUuids) expect((await h.getAlert(uuid)).status, uuid).toBe(200);
  }, 60_000);
});
