import { describe, expect, it } from "vitest";
import { episodeMessage, outageMessage, renderHealthList } from "../../blocks/health.js";
import { limitProblems, LIMITS, type SlackMessage } from "../../blocks/limits.js";
import { partialVisibilityBlocks } from "../../blocks/visibility.js";
import { healthSignalOf, hostOf, MAX_HOST_CHARS, metricsSnapshotOf } from "../../src/health/signals.js";
import {
  durationText,
  type HostHealth,
  hostHealth,
  type HostRecord,
  hostState,
  lossOf,
  partialVisibilityOf,
  partialVisibilityText,
  sortHosts,
} from "../../src/health/state.js";
import { checkEveryMs } from "../../src/queue/health-jobs.js";

const HOSTILE = `<!channel> @here *bold* _it_ ~s~ \`code\` <https://evil.example|click me> ${"y".repeat(500)}`;

/** Every mrkdwn text of a message, and its notification text. */
function mrkdwnOf(m: SlackMessage): string[] {
  const out = [m.text];
  for (const b of m.blocks) {
    if (b.type === "section" && b.text?.type === "mrkdwn") out.push(b.text.text);
    if (b.type === "context") for (const e of b.elements) if (e.type === "mrkdwn") out.push(e.text);
  }
  return out;
}

function expectSafe(m: SlackMessage): void {
  expect(limitProblems(m.blocks)).toEqual([]);
  for (const b of m.blocks)
    if (b.type === "header") {
      expect(b.text.type).toBe("plain_text");
      expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.headerText);
    }
  for (const text of mrkdwnOf(m)) {
    expect(text).not.toMatch(/<!channel>|<https:\/\/evil|<@/);
    expect(text).not.toMatch(/@here\b/);
  }
}

describe("health signals", () => {
  it("reads a metrics snapshot's figures as Falco names them", () => {
    const s = metricsSnapshotOf({
      "falco.version": "0.41.0",
      "falco.evts_rate_sec": 1846.4,
      "falco.sha256_rules_file.falco_rules_yaml": "58a4",
      "falco.sha256_rules_file.custom_rules_yaml": "9f00",
      "falco.sha256_config_file.falco_yaml": "e17c",
      "falco.rules.matches_total": 12,
      "falco.rules.Terminal_shell_in_container": 3,
      "falco.rules.Read_sensitive_file_untrusted": 0,
      "scap.engine_name": "bpf",
      "scap.n_drops_perc": 0.0,
      "scap.n_drops": 1_000_000_000_000_000_000n,
      "scap.n_drops_prev": 999_999_999_999_999_990n,
      "falco.kernel_release": "6.14.6-300.fc42.x86_64",
    });
    expect(s).toEqual({
      falcoVersion: "0.41.0",
      rulesFiles: ["falco_rules_yaml", "custom_rules_yaml"],
      rulesCounted: 2,
      evtsRate: 1846.4,
      dropsPercent: 0,
      drops: 0, // both beyond a double's precision: the difference is not trusted past it
      engine: "bpf",
      kernel: "6.14.6-300.fc42.x86_64",
    });
    // The libbpf-stats figure stands in when Falco's own is absent; missing figures are null.
    expect(
      metricsSnapshotOf({ "scap.evts_rate_sec": 10, "scap.n_drops": 30, "scap.n_drops_prev": 12 }),
    ).toMatchObject({
      evtsRate: 10,
      drops: 18,
      falcoVersion: null,
      rulesFiles: [],
      rulesCounted: null,
      dropsPercent: null,
    });
  });

  it("knows the three health rules, drop counts written as strings, and leaves other internal alerts alone", () => {
    const drop = healthSignalOf({
      rule: "Falco internal: syscall event drop",
      outputFields: { n_drops: "6315305", n_evts: "134571", ebpf_enabled: "1" },
    });
    expect(drop).toEqual({ kind: "drops", drops: 6315305, events: 134571 });
    expect(
      healthSignalOf({ rule: "Falco internal: syscall event drop", outputFields: { n_drops: "lots" } }),
    ).toEqual({ kind: "drops", drops: null, events: null });
    expect(
      healthSignalOf({
        rule: "Falco internal: timeouts notification",
        outputFields: { last_event_time: "13:22:12.609379000" },
      }),
    ).toEqual({ kind: "timeouts", lastEventTime: "13:22:12.609379000" });
    expect(
      healthSignalOf({
        rule: "Falco internal: timeouts notification",
        outputFields: { last_event_time: "none" },
      }),
    ).toEqual({ kind: "timeouts", lastEventTime: null });
    expect(healthSignalOf({ rule: "Falco internal: metrics snapshot", outputFields: {} })?.kind).toBe(
      "metrics",
    );
    expect(healthSignalOf({ rule: "Falco internal: hot restart failure", outputFields: {} })).toBeNull();
    expect(
      healthSignalOf({ rule: "Terminal shell in container", outputFields: { n_drops: "1" } }),
    ).toBeNull();
  });

  it("a host is its name; none is one record of its own; an over-long name is cut and told apart by a hash", () => {
    expect(hostOf({ hostname: "node-1" })).toBe("node-1");
    expect(hostOf({ hostname: null })).toBe("");
    const a = hostOf({ hostname: `${"a".repeat(300)}1` });
    const b = hostOf({ hostname: `${"a".repeat(300)}2` });
    expect([...a].length).toBeLessThanOrEqual(MAX_HOST_CHARS);
    expect(a).not.toBe(b);
    expect(hostOf({ hostname: `${"a".repeat(300)}1` })).toBe(a);
  });
});

describe("health state", () => {
  const now = Date.parse("2026-01-01T12:00:00Z");
  const record = (changes: Partial<HostRecord> = {}): HostRecord => ({
    host: "node-1",
    lastSeen: now - 1000,
    snapshot: null,
    outage: null,
    recent: null,
    ...changes,
  });
  const snapshot = (at: number) => ({
    at,
    figures: metricsSnapshotOf({ "falco.version": "0.41.0" }),
  });
  const options = { now, heartbeatMissingSeconds: 300 };

  it("silent needs a heartbeat: a host with snapshots and nothing for the threshold, or an open outage", () => {
    expect(hostState(record({ lastSeen: now - 301_000, snapshot: snapshot(now - 301_000) }), options)).toBe(
      "silent",
    );
    expect(hostState(record({ lastSeen: now - 299_000, snapshot: snapshot(now - 600_000) }), options)).toBe(
      "healthy",
    );
    // Only alerts, no snapshot: quiet, not silent.
    expect(hostState(record({ lastSeen: now - 86_400_000 }), options)).toBe("healthy");
    expect(hostState(record({ outage: { since: now - 400_000, backAt: null } }), options)).toBe("silent");
    expect(hostState(record({ outage: { since: now - 400_000, backAt: now - 1000 } }), options)).toBe(
      "healthy",
    );
    // Check off: never silent from the clock.
    expect(
      hostState(record({ lastSeen: now - 900_000, snapshot: snapshot(now - 900_000) }), {
        now,
        heartbeatMissingSeconds: 0,
      }),
    ).toBe("healthy");
    const recent = lossOf([{ kind: "drops", at: now - 1000, drops: 5 }]);
    expect(hostState(record({ recent }), options)).toBe("dropping");
    expect(
      hostState(record({ recent, snapshot: snapshot(now - 400_000), lastSeen: now - 400_000 }), options),
    ).toBe("silent");
  });

  it("adds up drops and timeouts; the partial-visibility note counts drops only", () => {
    const events = [
      { kind: "drops" as const, at: now - 60_000, drops: 2 },
      { kind: "timeouts" as const, at: now - 120_000, drops: 0 },
      { kind: "drops" as const, at: now, drops: 5 },
    ];
    expect(lossOf(events)).toEqual({
      drops: 7,
      dropAlerts: 2,
      timeouts: 1,
      from: new Date(now - 120_000).toISOString(),
      to: new Date(now).toISOString(),
    });
    const note = partialVisibilityOf(events)!;
    expect(note.from).toBe(new Date(now - 60_000).toISOString());
    expect(partialVisibilityText(note)).toBe(
      `Partial visibility: this node dropped 7 events between ${note.from} and ${note.to} (2 syscall event drop alerts from Falco). Activity around this alert may be missing from it and from other alerts.`,
    );
    expect(partialVisibilityOf([{ kind: "timeouts", at: now, drops: 0 }])).toBeNull();
    expect(partialVisibilityOf([])).toBeNull();
  });

  it("lists silent hosts first, then dropping, then healthy", () => {
    const hosts = [
      record({ host: "b-healthy" }),
      record({ host: "a-dropping", recent: lossOf([{ kind: "drops", at: now, drops: 1 }]) }),
      record({ host: "c-silent", outage: { since: now - 1, backAt: null } }),
    ].map((r) => hostHealth(r, options));
    expect(sortHosts(hosts).map((h) => h.host)).toEqual(["c-silent", "a-dropping", "b-healthy"]);
  });

  it("writes durations in their two largest units, and checks the heartbeat four times per threshold", () => {
    expect(durationText(45_000)).toBe("45s");
    expect(durationText(432_000)).toBe("7m 12s");
    expect(durationText(7_500_000)).toBe("2h 5m");
    expect(durationText(3 * 86_400_000 + 4 * 3_600_000)).toBe("3d 4h");
    expect(durationText(3_600_000)).toBe("1h");
    expect(checkEveryMs(2)).toBe(1000);
    expect(checkEveryMs(120)).toBe(30_000);
    expect(checkEveryMs(900)).toBe(60_000);
  });
});

describe("health views", () => {
  const since = Date.parse("2026-01-01T12:00:00Z");

  it("an outage message says since when, and when back, for how long", () => {
    const silent = outageMessage({ host: "node-1", since, backAt: null, heartbeatMissingSeconds: 900 });
    expect(silent.text).toBe("Falco on node-1 is silent");
    expect(JSON.stringify(silent.blocks)).toContain("for more than 15m");
    const back = outageMessage({
      host: "node-1",
      since,
      backAt: since + 432_000,
      heartbeatMissingSeconds: 900,
    });
    expect(back.text).toBe("Falco on node-1 is back after 7m 12s");
    expectSafe(silent);
    expectSafe(back);
  });

  it("an episode message counts drops, alerts and timeouts", () => {
    const m = episodeMessage({
      host: "node-1",
      startedAt: since,
      lastAt: since + 90_000,
      drops: 1234567,
      dropAlerts: 3,
      timeouts: 2,
      lastEventTime: "13:22:12.609379000",
    });
    const text = JSON.stringify(m.blocks);
    expect(text).toContain("*1,234,567 system call events*");
    expect(text).toContain("in 3 syscall event drop alerts");
    expect(text).toContain("*2 timeouts notifications*");
    expect(text).toContain("`13:22:12.609379000`");
    const onlyTimeouts = episodeMessage({
      host: "node-1",
      startedAt: since,
      lastAt: since,
      drops: 0,
      dropAlerts: 0,
      timeouts: 1,
      lastEventTime: null,
    });
    expect(onlyTimeouts.text).toBe("Falco on node-1 sent 1 timeouts notifications");
    expect(JSON.stringify(onlyTimeouts.blocks)).toContain("Falco receiving no events");
  });

  it("hostile and empty host names stay text in every health view", () => {
    for (const host of [HOSTILE, "", "   "]) {
      expectSafe(outageMessage({ host, since, backAt: null, heartbeatMissingSeconds: 60 }));
      expectSafe(outageMessage({ host, since, backAt: since + 1000, heartbeatMissingSeconds: 60 }));
      expectSafe(
        episodeMessage({
          host,
          startedAt: since,
          lastAt: since,
          drops: 1,
          dropAlerts: 1,
          timeouts: 1,
          lastEventTime: "<!here>",
        }),
      );
    }
    const m = outageMessage({ host: HOSTILE, since, backAt: null, heartbeatMissingSeconds: 60 });
    expect(JSON.stringify(m.blocks)).toContain("&lt;!channel&gt; @\u2060here");
    expect(
      JSON.stringify(outageMessage({ host: "", since, backAt: null, heartbeatMissingSeconds: 60 })),
    ).toContain("_(no hostname)_");
  });

  it("/falco health stays within one message however many hosts, hostile names included", () => {
    const now = since + 10_000;
    const host = (name: string, state: HostHealth["state"]): HostHealth => ({
      host: name,
      state,
      lastSeenAt: new Date(since).toISOString(),
      heartbeat: true,
      silentSince: state === "silent" ? new Date(since).toISOString() : null,
      snapshot: {
        at: new Date(since).toISOString(),
        ...metricsSnapshotOf({ "falco.version": HOSTILE, "falco.evts_rate_sec": 12.5 }),
      },
      recent: state === "dropping" ? lossOf([{ kind: "drops", at: since, drops: 3 }]) : null,
    });
    const many = ["silent", "dropping", "healthy"].flatMap((state) =>
      Array.from({ length: 500 }, (_, i) => host(`${HOSTILE}-${state}-${i}`, state as HostHealth["state"])),
    );
    const list = renderHealthList(many, { now, heartbeatMissingSeconds: 900 });
    expectSafe(list);
    const text = JSON.stringify(list.blocks);
    expect(text).toContain("500 silent · 500 dropping events · 500 healthy");
    expect(text).toMatch(/…and [\d,]+ more \(all of them: `GET \/health\/falco`\)/);
    const few = renderHealthList([host("node-1", "healthy")], { now, heartbeatMissingSeconds: 0 });
    expect(JSON.stringify(few.blocks)).toContain("The heartbeat check is off");
    expect(JSON.stringify(few.blocks)).toContain("`node-1` · last seen 10s ago · Falco");
    expect(renderHealthList([], { now, heartbeatMissingSeconds: 900 }).text).toBe(
      "No Falco host has sent anything yet.",
    );
  });

  it("an alert without drops around it gets no visibility block, so its message is unchanged", () => {
    expect(partialVisibilityBlocks(null)).toEqual([]);
    expect(partialVisibilityBlocks(undefined)).toEqual([]);
    const [block] = partialVisibilityBlocks(lossOf([{ kind: "drops", at: since, drops: 4 }]));
    expect(JSON.stringify(block)).toContain("*Partial visibility:* this node dropped 4 events at <!date^");
  });
});
