import { describe, expect, it } from "vitest";
import { parseAlertBody } from "../../src/falco/body.js";
import { fieldText, isAbsent } from "../../src/falco/alert.js";
import { parseJsonLossless, repairEmptyValues, stringifyLossless } from "../../src/falco/json.js";
import { normalisePriority } from "../../src/falco/priority.js";
import { formatIssue, nanosToRfc3339 } from "../../src/falco/schema.js";
import { HAVE_SHARED, realAlertFiles } from "../helpers/shared-corpus.js";

const minimal = {
  rule: "Terminal shell in container",
  priority: "Notice",
  output: "x",
  time: "2024-11-22T09:12:03.112233445Z",
  output_fields: { "proc.name": "bash" },
};

describe("Falco JSON bodies", () => {
  it("keeps 19-digit and unsigned 64-bit integers exact", () => {
    const text = '{"evt.time":1728133246937782756,"wrap":18446744073612728677,"small":34816,"f":1846.4}';
    const value = parseJsonLossless(text) as Record<string, unknown>;
    expect(value["evt.time"]).toBe(1728133246937782756n);
    expect(value.wrap).toBe(18446744073612728677n);
    expect(value.small).toBe(34816);
    expect(value.f).toBe(1846.4);
    expect(stringifyLossless(value)).toBe(text);
    // …which is why: JSON.parse rounds it.
    expect(String(JSON.parse(text)["evt.time"])).not.toBe("1728133246937782756");
  });

  it("repairs only empty values outside strings", () => {
    expect(repairEmptyValues('{"a":,"b":"x:,y","c":}')).toBe('{"a":null,"b":"x:,y","c":null}');
    expect(repairEmptyValues('{"a":1}')).toBeNull();
  });

  it("accepts one object, an array and NDJSON", () => {
    const one = JSON.stringify(minimal);
    expect(parseAlertBody(one, "json")).toMatchObject({ ok: true, alerts: [{ rule: minimal.rule }] });
    const arr = parseAlertBody(JSON.stringify([minimal, minimal]), "json");
    expect(arr.ok && arr.alerts.length).toBe(2);
    const nd = parseAlertBody(`${one}\n\n${one}\r\n${one}\n`, "ndjson");
    expect(nd.ok && nd.alerts.length).toBe(3);
    // NDJSON sent as application/json (cat falco.log | curl) is read line by line too.
    const ndAsJson = parseAlertBody(`${one}\n${one}`, "json");
    expect(ndAsJson.ok && ndAsJson.alerts.length).toBe(2);
  });

  it("generates a v4 uuid when the alert has none and keeps a given one", () => {
    const r = parseAlertBody(JSON.stringify(minimal), "json");
    if (!r.ok) throw new Error("expected ok");
    expect(r.alerts[0]!.uuid).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(r.alerts[0]!.uuidGenerated).toBe(true);
    const given = parseAlertBody(
      JSON.stringify({ ...minimal, uuid: "cec8d1cb-e854-45bf-a0bf-b7aa73707b4a" }),
      "json",
    );
    expect(given.ok && given.alerts[0]!.uuid).toBe("cec8d1cb-e854-45bf-a0bf-b7aa73707b4a");
  });

  it("names the field and the alert's index in every error", () => {
    const r = parseAlertBody(
      JSON.stringify([
        minimal,
        { ...minimal, priority: "Bogus" },
        { ...minimal, rule: 3, output_fields: { x: { y: 1 } } },
      ]),
      "json",
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const messages = r.issues.map(formatIssue);
    expect(messages).toContainEqual(
      expect.stringMatching(/^alert\[1\]\.priority: must be one of Emergency, .* \(got "Bogus"\)$/),
    );
    expect(messages).toContainEqual(expect.stringMatching(/^alert\[2\]\.rule: /));
    expect(messages).toContainEqual(
      'alert[2].output_fields["x"]: must be a string, number, null or a list of them',
    );
  });

  it("accepts list fields as plugins send them, and shows them as text", () => {
    // k8saudit renders list fields such as ka.req.pod.containers.image as JSON arrays.
    const r = parseAlertBody(
      JSON.stringify({
        ...minimal,
        source: "k8s_audit",
        output_fields: {
          "ka.req.pod.containers.image": ["nginx:1.27", "busybox"],
          "ka.req.pod.initContainers.image": [],
          "ka.user.name": "admin",
        },
      }),
      "json",
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const fields = r.alerts[0]!.outputFields;
    expect(fields["ka.req.pod.containers.image"]).toEqual(["nginx:1.27", "busybox"]);
    expect(fieldText(fields["ka.req.pod.containers.image"]!)).toBe("nginx:1.27, busybox");
    expect(isAbsent(fields["ka.req.pod.initContainers.image"])).toBe(true);
    expect(isAbsent(fields["ka.user.name"])).toBe(false);
  });

  it("refuses deeply nested JSON and batches over the limit with a clear message", () => {
    const deep = parseAlertBody("[".repeat(100000) + "]".repeat(100000), "json");
    expect(deep.ok).toBe(false);
    if (!deep.ok) expect(formatIssue(deep.issues[0]!)).toMatch(/nested deeper than 32 levels/);
    const batch = parseAlertBody(JSON.stringify([minimal, minimal, minimal]), "json", new Date(), 2);
    expect(batch.ok).toBe(false);
    if (!batch.ok)
      expect(formatIssue(batch.issues[0]!)).toMatch(/holds 3 alerts, more than MAX_BATCH_ALERTS \(2\)/);
    expect(parseAlertBody(JSON.stringify([minimal, minimal]), "json", new Date(), 2).ok).toBe(true);
  });

  it("reports missing required fields, wrong time and non-object bodies", () => {
    const r = parseAlertBody(JSON.stringify({ output: "x", time: "yesterday" }), "json");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const fields = r.issues.map((i) => i.field);
    expect(fields).toEqual(expect.arrayContaining(["rule", "priority", "time"]));
    const notObject = parseAlertBody("[1]", "json");
    expect(!notObject.ok && formatIssue(notObject.issues[0]!)).toBe(
      "alert[0]: must be a JSON object (one Falco alert)",
    );
    const bad = parseAlertBody("{not json", "json");
    expect(!bad.ok && bad.issues[0]!.message).toMatch(/^body is not valid JSON/);
    const badLine = parseAlertBody(`${JSON.stringify(minimal)}\n{oops`, "ndjson");
    expect(!badLine.ok && formatIssue(badLine.issues[0]!)).toMatch(/^alert\[1\]: line 2 is not valid JSON/);
    expect(parseAlertBody("  ", "json").ok).toBe(false);
    expect(parseAlertBody("[]", "json").ok).toBe(false);
  });

  it("normalises priorities as Falco and syslog spell them", () => {
    expect(normalisePriority("CRITICAL")).toBe("Critical");
    expect(normalisePriority("info")).toBe("Informational");
    expect(normalisePriority("warn")).toBe("Warning");
    expect(normalisePriority("urgent")).toBeUndefined();
  });

  it("derives the time from evt.time when Falco sent an empty one", () => {
    expect(nanosToRfc3339(1728133246937782756n)).toBe("2024-10-05T13:00:46.937782756Z");
    const r = parseAlertBody(
      '{"rule":"r","priority":"Notice","output":"","time":"","output_fields":{"evt.time":1728133246937782756}}',
      "json",
    );
    expect(r.ok && r.alerts[0]!.time).toBe("2024-10-05T13:00:46.937782756Z");
    expect(r.ok && r.alerts[0]!.timeDerivedFrom).toBe("evt.time");
  });

  it("infers the source of pre-0.30 alerts, which had none", () => {
    const k8s = parseAlertBody(
      JSON.stringify({ ...minimal, output_fields: { "ka.user.name": "u" } }),
      "json",
    );
    expect(k8s.ok && k8s.alerts[0]!.source).toBe("k8s_audit");
    const internal = parseAlertBody(
      JSON.stringify({ ...minimal, rule: "Falco internal: syscall event drop" }),
      "json",
    );
    expect(internal.ok && internal.alerts[0]!.source).toBe("internal");
    const sys = parseAlertBody(JSON.stringify(minimal), "json");
    expect(sys.ok && sys.alerts[0]!.source).toBe("syscall");
  });
});

if (!HAVE_SHARED)
  console.warn("Skipping the real-alert corpus checks: ../shared/falco is not present in this checkout.");

describe.skipIf(!HAVE_SHARED)(
  "every real alert in the shared corpus (skipped when ../shared/falco is absent)",
  () => {
    const files = HAVE_SHARED ? realAlertFiles() : [];

    it("finds the corpus (53 files and the two invalid ones)", () => {
      expect(files.filter((f) => !f.name.includes("invalid-as-emitted")).length).toBe(55 - 2);
      expect(files.filter((f) => f.name.includes("invalid-as-emitted")).length).toBe(2);
    });

    it.each(files.map((f) => [f.name, f.text] as const))("accepts %s", (name, text) => {
      const r = parseAlertBody(
        text,
        name.includes("ndjson") ? "ndjson" : "json",
        new Date("2026-01-01T00:00:00Z"),
      );
      if (!r.ok) throw new Error(r.issues.map(formatIssue).join("\n"));
      for (const alert of r.alerts) {
        expect(alert.rule.length).toBeGreaterThan(0);
        expect(Date.parse(alert.time)).not.toBeNaN();
        if (name.includes("invalid-as-emitted")) expect(alert.repairs.length).toBe(1);
        else expect(alert.repairs).toEqual([]);
        // Every integer the sender wrote is kept digit for digit.
        for (const [key, value] of Object.entries(alert.outputFields)) {
          if (typeof value === "bigint")
            expect(text).toContain(
              `"${key}":${value}`.replace(":", text.includes(`"${key}": `) ? ": " : ":"),
            );
        }
      }
    });
  },
);
