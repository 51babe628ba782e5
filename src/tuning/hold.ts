import type { Logger } from "pino";
import type { FalcoAlert } from "../falco/alert.js";
import type { DeliveryHold, Hold } from "../ingest/holds.js";
import type { StoredException, TuningStore } from "../store/tuning-store.js";
import { exceptionMatches } from "./exception.js";

/** How often each process checks whether another one saved or withdrew an exception. */
export const TUNING_REFRESH_MS = 1000;

/**
 * Holds back, at ingest, every alert a saved exception matches (`delivery.status: "tuned"`), until
 * Falco itself loads the exception. Answers from memory, indexed by rule; kept in step with Redis
 * by reading the version counter every TUNING_REFRESH_MS and the exceptions when it changed, and at
 * once in the process that saved or withdrew one (`refresh`).
 */
export class TuningHold implements DeliveryHold {
  private byRule = new Map<string, StoredException[]>();
  private version: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly store: TuningStore,
    private readonly log: Logger,
  ) {}

  holdFor(alert: FalcoAlert): Hold | null {
    const candidates = this.byRule.get(alert.rule);
    if (!candidates) return null;
    for (const ex of candidates) if (exceptionMatches(ex, alert)) return { status: "tuned", by: ex.id };
    return null;
  }

  /**
   * Reads the exceptions again if the version changed (or `force`); a refresh already running is
   * shared unless forced. Never throws: it logs, and keeps the exceptions last read.
   */
  refresh(force = false): Promise<void> {
    if (this.refreshing && !force) return this.refreshing;
    const run: Promise<void> = this.read(force).finally(() => {
      if (this.refreshing === run) this.refreshing = null;
    });
    this.refreshing = run;
    return run;
  }

  private async read(force: boolean): Promise<void> {
    try {
      const version = await this.store.version();
      if (!force && version === this.version) return;
      const byRule = new Map<string, StoredException[]>();
      for (const ex of await this.store.list()) byRule.set(ex.rule, [...(byRule.get(ex.rule) ?? []), ex]);
      this.byRule = byRule;
      this.version = version;
    } catch (error) {
      this.log.warn({ err: error }, "could not read the saved Falco exceptions; keeping the last ones read");
    }
  }

  /** Reads the exceptions now and then keeps them in step until `stop`. */
  async start(): Promise<void> {
    await this.refresh(true);
    this.timer = setInterval(() => void this.refresh(), TUNING_REFRESH_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
