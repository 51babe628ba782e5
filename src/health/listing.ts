import type { HealthStore } from "../store/health-store.js";
import { type HealthOptions, type HostHealth, hostHealth, sortHosts } from "./state.js";

/** Every Falco host with its health state, for `/falco health`, `GET /health/falco` and /metrics. */
export class HealthListing {
  constructor(
    private readonly store: HealthStore,
    private readonly heartbeatMissingSeconds: number,
    private readonly clock: () => number = Date.now,
  ) {}

  options(): HealthOptions {
    return { now: this.clock(), heartbeatMissingSeconds: this.heartbeatMissingSeconds };
  }

  /** Silent hosts first, then dropping, then healthy; by name within each. */
  async hosts(): Promise<HostHealth[]> {
    const options = this.options();
    const records = await this.store.hosts(options.now);
    return sortHosts(records.map((r) => hostHealth(r, options)));
  }
}
