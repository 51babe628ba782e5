import type { Redis, Cluster } from "ioredis";
import type { Logger } from "pino";
import type { FalcoAlert } from "../falco/alert.js";
import { priorityRank } from "../falco/priority.js";
import type { DeliveryHold, Hold } from "../ingest/holds.js";
import type { SilenceStore } from "../store/silences.js";
import { SCOPE_FIELDS, SCOPE_ORDER } from "./scope.js";
import type { Silence } from "./silence.js";

/** How often each process compares its copy's version with Redis's, besides the announcements. */
export const REFRESH_MS = 5000;

interface Compiled {
  id: string;
  endsAt: number;
  rank: number;
  /** [field id, value], the indexed one left out. */
  rest: [string, string][];
}

/**
 * The active silences of one rule, indexed by the value of one matcher (the first in SCOPE_ORDER),
 * so that an alert is compared only with the silences on its own value of that field: a thousand
 * silences on one rule, each for another host, cost one map lookup per alert.
 */
interface RuleIndex {
  /** Silences with no matcher: the whole rule up to their priority. */
  whole: Compiled[];
  /** Indexed field id → its value → silences. */
  byField: Map<string, Map<string, Compiled[]>>;
}

export function indexSilences(silences: readonly Silence[]): Map<string, RuleIndex> {
  const byRule = new Map<string, RuleIndex>();
  for (const s of silences) {
    let index = byRule.get(s.rule);
    if (!index) byRule.set(s.rule, (index = { whole: [], byField: new Map() }));
    const matchers = Object.entries(s.match).sort(
      ([a], [b]) => SCOPE_ORDER.indexOf(a) - SCOPE_ORDER.indexOf(b),
    );
    const compiled = (rest: [string, string][]): Compiled => ({
      id: s.id,
      endsAt: Date.parse(s.endsAt),
      rank: priorityRank(s.priority),
      rest,
    });
    const [first, ...rest] = matchers;
    if (!first) {
      index.whole.push(compiled([]));
      continue;
    }
    let values = index.byField.get(first[0]);
    if (!values) index.byField.set(first[0], (values = new Map()));
    const list = values.get(first[1]) ?? [];
    list.push(compiled(rest));
    values.set(first[1], list);
  }
  return byRule;
}

function firstMatch(
  list: Compiled[] | undefined,
  alert: FalcoAlert,
  rank: number,
  now: number,
): string | null {
  if (!list) return null;
  for (const s of list) {
    if (s.endsAt <= now || rank < s.rank) continue;
    if (s.rest.every(([field, value]) => SCOPE_FIELDS.get(field)?.read(alert) === value)) return s.id;
  }
  return null;
}

/** The id of the first active silence in this index that hides this alert, or null. */
export function silenceFor(byRule: Map<string, RuleIndex>, alert: FalcoAlert, now: number): string | null {
  const index = byRule.get(alert.rule);
  if (!index) return null;
  const rank = priorityRank(alert.priority);
  const whole = firstMatch(index.whole, alert, rank, now);
  if (whole) return whole;
  for (const [field, values] of index.byField) {
    const value = SCOPE_FIELDS.get(field)?.read(alert);
    if (value === undefined) continue;
    const id = firstMatch(values.get(value), alert, rank, now);
    if (id) return id;
  }
  return null;
}

/**
 * This process's copy of the active silences, consulted at ingest for every alert (from memory).
 * It is re-read from Redis when a change is announced on the silences' pub/sub channel, when a
 * periodic check finds Redis's version counter ahead of the copy's (an announcement missed while
 * disconnected), and after this process changes a silence itself. A process that cannot reach Redis
 * keeps its last copy; a silence's end is honoured from the copy's own end times meanwhile.
 */
export class ActiveSilences implements DeliveryHold {
  private byRule = new Map<string, RuleIndex>();
  private loadedVersion = -1;
  private reading: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private subscriber: Redis | Cluster | null = null;

  constructor(
    private readonly store: SilenceStore,
    private readonly log: Logger,
  ) {}

  holdFor(alert: FalcoAlert): Hold | null {
    const id = silenceFor(this.byRule, alert, Date.now());
    return id ? { status: "silenced", by: id } : null;
  }

  /**
   * Reads the active silences now (a second call while one runs waits for one more read after it,
   * so a change made during a read is never missed). Never throws: a failure keeps the last copy.
   */
  refresh(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = (async () => {
      do {
        this.again = false;
        try {
          const version = await this.store.version();
          const active = await this.store.active();
          this.byRule = indexSilences(active);
          this.loadedVersion = version;
        } catch (error) {
          this.log.warn({ err: error }, "could not re-read the silences; keeping the last copy");
        }
      } while (this.again);
      this.reading = null;
    })();
    return this.reading;
  }

  /**
   * First read, then listening for announcements (on a connection of its own, which a subscriber
   * must be) and checking the version every REFRESH_MS. Does not wait for Redis: a process started
   * while Redis is down begins with no silences and reads them once it answers.
   */
  async start(subscriber: Redis | Cluster): Promise<void> {
    this.subscriber = subscriber;
    subscriber.on("error", () => {});
    subscriber.on("message", () => void this.refresh());
    let subscribed = false;
    subscriber.on("ready", () => {
      // ioredis subscribes again by itself after a reconnection; what changed meanwhile is re-read.
      if (subscribed) return void this.refresh();
      subscribed = true;
      subscriber.subscribe(this.store.keys.silencesChanged).catch((error: unknown) => {
        subscribed = false;
        this.log.warn({ err: error }, "could not subscribe to silence changes; checking every few seconds");
      });
    });
    await this.refresh();
    this.timer = setInterval(() => {
      this.store.version().then(
        (v) => (v !== this.loadedVersion ? this.refresh() : undefined),
        () => {},
      );
    }, REFRESH_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.subscriber?.disconnect();
  }
}
