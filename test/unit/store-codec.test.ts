import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseAlertBody } from "../../src/falco/body.js";
import {
  type AlertHash,
  decodeAlertHash,
  decodeBody,
  deliveryFields,
  encodeAlertHash,
  encodeBody,
  storedAlertOf,
} from "../../src/store/codec.js";

const parsed = parseAlertBody(
  readFileSync(new URL("../../examples/terminal-shell.json", import.meta.url), "utf8"),
  "json",
);
if (!parsed.ok) throw new Error("example alert does not parse");
const alert = parsed.alerts[0]!;

const firstFields = {
  receivedAt: "2026-12-02T10:00:00.000Z",
  channel: "C0CODEC",
  post: "1",
  deliveryStatus: "pending",
  group: alert.uuid,
  groupCount: "1",
  groupFirst: "2026-12-02T10:00:00.000Z",
  groupLast: "2026-12-02T10:00:00.000Z",
};

describe("the alert state hash codec", () => {
  it("reads a new alert's hash, as createAlerts.lua writes it", () => {
    expect(decodeAlertHash(firstFields)).toEqual({
      receivedAt: "2026-12-02T10:00:00.000Z",
      channel: "C0CODEC",
      post: true,
      deliveryStatus: "pending",
      deliveryError: null,
      deliveryAt: null,
      heldBy: null,
      rollup: null,
      group: alert.uuid,
      groupCount: 1,
      groupFirst: "2026-12-02T10:00:00.000Z",
      groupLast: "2026-12-02T10:00:00.000Z",
      acknowledgedBy: null,
      acknowledgedAt: null,
      escalatedBy: null,
      escalatedAt: null,
      slackChannel: null,
      slackTs: null,
      postIntentAt: null,
      reportPostedBy: null,
      reportPostedAt: null,
      ownerBy: null,
      ownerAt: null,
      verdict: null,
      resolutionNote: null,
      resolvedBy: null,
      resolvedAt: null,
      previousOccurrence: null,
      silenceId: null,
      silencedUntil: null,
      silencedBy: null,
    } satisfies AlertHash);
  });

  it("reads a resolution as resolveAlert.lua writes it, and refuses an unknown verdict", () => {
    const resolved = {
      ...firstFields,
      verdict: "expected_activity",
      resolutionNote: "nightly backup job",
      resolvedBy: "U0ALICE",
      resolvedAt: "2026-12-02T11:00:00.000Z",
    };
    const stored = storedAlertOf({ alert, groupKey: "k" }, decodeAlertHash(resolved)!);
    expect(stored.resolution).toEqual({
      verdict: "expected_activity",
      note: "nightly backup job",
      by: "U0ALICE",
      at: "2026-12-02T11:00:00.000Z",
    });
    // An empty note (the person wrote none) reads as none.
    expect(
      storedAlertOf({ alert, groupKey: "k" }, decodeAlertHash({ ...resolved, resolutionNote: "" })!)
        .resolution?.note,
    ).toBeNull();
    expect(storedAlertOf({ alert, groupKey: "k" }, decodeAlertHash(firstFields)!).resolution).toBeNull();
    expect(() => decodeAlertHash({ ...resolved, verdict: "benign" })).toThrow();
  });

  it("writes what it reads back", () => {
    const patch: Partial<AlertHash> = {
      expanded: false,
      mitigationInThread: true,
      groupRendered: 12,
      escalation: { channel: "C0ESC", ts: "1700000000.000100" },
      ...deliveryFields({ status: "failed", error: "channel_not_found", at: "2026-12-02T10:00:01.000Z" }),
    };
    const fields = encodeAlertHash(patch);
    expect(fields).toEqual({
      expanded: "0",
      mitigationInThread: "1",
      groupRendered: "12",
      escalation: '{"channel":"C0ESC","ts":"1700000000.000100"}',
      deliveryStatus: "failed",
      deliveryError: "channel_not_found",
      deliveryAt: "2026-12-02T10:00:01.000Z",
    });
    expect(decodeAlertHash({ ...firstFields, ...fields })).toMatchObject(patch);
  });

  it("writes an absent value as empty and reads it as null", () => {
    expect(encodeAlertHash(deliveryFields({ status: "pending", error: null, at: null }))).toEqual({
      deliveryStatus: "pending",
      deliveryError: "",
      deliveryAt: "",
    });
    expect(decodeAlertHash({ ...firstFields, deliveryError: "", deliveryAt: "" })).toMatchObject({
      deliveryError: null,
      deliveryAt: null,
    });
  });

  it("reads the silence an alert's message shows, while it lasts", () => {
    const state = decodeAlertHash({
      ...firstFields,
      silenceId: "s-1",
      silencedUntil: "2026-12-02T14:00:00.000Z",
      silencedBy: "U0ALICE",
    })!;
    expect(storedAlertOf({ alert, groupKey: "k" }, state).silence).toEqual({
      id: "s-1",
      until: "2026-12-02T14:00:00.000Z",
      by: "U0ALICE",
    });
  });

  it("answers null for no hash, and refuses a hash it cannot read", () => {
    expect(decodeAlertHash({})).toBeNull();
    expect(() => decodeAlertHash({ ...firstFields, post: "yes" })).toThrow();
    expect(() => decodeAlertHash({ ...firstFields, deliveryStatus: "lost" })).toThrow();
    expect(() => decodeAlertHash({ ...firstFields, groupCount: "-1" })).toThrow();
    expect(() => decodeAlertHash({ ...firstFields, escalation: '{"channel":"C0ESC"}' })).toThrow();
    const { group: _, ...withoutGroup } = firstFields;
    expect(() => decodeAlertHash(withoutGroup)).toThrow();
  });

  it("gives an alert below MIN_PRIORITY its fixed reason, which is not stored", () => {
    const fields = encodeAlertHash(deliveryFields({ status: "not_posted", error: "anything", at: null }));
    expect(fields.deliveryError).toBe("");
    const state = decodeAlertHash({ ...firstFields, post: "0", ...fields })!;
    const stored = storedAlertOf({ alert, groupKey: "k" }, state);
    expect(stored.post).toBe(false);
    expect(stored.silence).toBeNull();
    expect(stored.delivery).toEqual({
      status: "not_posted",
      error: "below MIN_PRIORITY: stored, not posted",
      at: null,
    });
  });
});

describe("the alert body codec", () => {
  it("keeps the alert whole, large integers included", () => {
    const big = { ...alert, outputFields: { ...alert.outputFields, "evt.num": 9007199254740993n } };
    const body = decodeBody(encodeBody({ alert: big, groupKey: "rule=x" }));
    expect(body).toEqual({ alert: big, groupKey: "rule=x" });
    expect(body.alert.outputFields["evt.num"]).toBe(9007199254740993n);
  });

  it("refuses a body that is not a stored alert", () => {
    expect(() => decodeBody('{"alert":{},"groupKey":"k"}')).toThrow();
    expect(() =>
      decodeBody(encodeBody({ alert: { ...alert, priority: "Loud" as "Notice" }, groupKey: "k" })),
    ).toThrow();
  });
});
