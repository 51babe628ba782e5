import { randomBytes } from "node:crypto";
import type { Priority } from "../falco/priority.js";
import type { SilenceJobs } from "../queue/silence-jobs.js";
import type { EndResult, SilenceStore } from "../store/silences.js";
import type { ActiveSilences } from "./active.js";
import type { Silence } from "./silence.js";

/** A silence as it is asked for (in Slack or over HTTP), already validated. */
export interface NewSilence {
  rule: string;
  priority: Priority;
  match: Record<string, string>;
  createdBy: string;
  reason: string;
  endsAt: Date;
  alert?: string | null;
  message?: { channel: string; ts: string } | null;
}

/**
 * Making and lifting silences, for the web process (Slack listeners and the HTTP API): the store,
 * the job that ends each one, and this process's copy of the active ones, which is re-read at once
 * after its own changes.
 */
export class Silences {
  constructor(
    readonly store: SilenceStore,
    private readonly jobs: SilenceJobs,
    private readonly active: ActiveSilences,
  ) {}

  async create(input: NewSilence, now = new Date()): Promise<Silence> {
    const silence: Silence = {
      id: `s-${randomBytes(6).toString("hex")}`,
      rule: input.rule,
      priority: input.priority,
      match: input.match,
      createdBy: input.createdBy,
      reason: input.reason,
      createdAt: now.toISOString(),
      endsAt: input.endsAt.toISOString(),
      alert: input.alert ?? null,
      message: input.message ?? null,
      endedAt: null,
      endedBy: null,
    };
    // The job first: a silence never exists without the job that ends it.
    await this.jobs.schedule(silence.id, input.endsAt, now.getTime());
    if (!(await this.store.create(silence, now))) throw new Error(`silence id ${silence.id} is taken`);
    await this.active.refresh();
    return silence;
  }

  /** Lifts it: ends it now and has the worker report how many alerts it held back. */
  async lift(id: string, by: string, now = new Date()): Promise<EndResult> {
    const result = await this.store.end(id, by, now);
    if (result.outcome === "ended") {
      await this.jobs.endNow(id);
      await this.active.refresh();
    }
    return result;
  }
}
