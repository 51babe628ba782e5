import type { Logger } from "pino";
import type { KnowledgeBase } from "../../enrich/knowledge.js";
import type { HealthListing } from "../../health/listing.js";
import type { VisibilityLookup } from "../../health/visibility.js";
import type { AlertStore } from "../../store/alert-store.js";
import type { RollupStore } from "../../store/rollups.js";
import type { Silences } from "../../silence/service.js";
import type { TuningStore } from "../../store/tuning-store.js";
import type { GitHubPullRequests } from "../../tuning/github.js";
import type { TuningHold } from "../../tuning/hold.js";
import type { ThreadLog } from "../thread-log.js";
import type { ResponderPolicy } from "./actions/responders.js";

/** What Slack listeners need; the composition root provides it. */
export interface ListenerDeps {
  store: AlertStore;
  /** Fleet roll-ups; absent: the roll-up buttons answer that roll-ups are not set up. */
  rollups?: RollupStore;
  kb: KnowledgeBase;
  escalationChannel: string;
  /** Who may act on alerts (SLACK_ALLOWED_RESPONDERS): one policy, so one cache of user groups. */
  responders: ResponderPolicy;
  /** Records each state change in the alert message's thread. */
  threadLog: ThreadLog;
  /** Making and lifting silences; absent: the Silence buttons answer that silences are off. */
  silences?: Silences;
  log: Logger;
  /** Saved Falco exceptions (Tune, `/falco tuning`); absent: the tuning listeners answer that it is off. */
  tuning?: TuningDeps;
  /** The events an alert's host dropped around it, which its message mentions. */
  visibility?: VisibilityLookup;
  /** Falco's hosts by health state (`/falco health`); absent: the command says it is off. */
  health?: HealthListing;
}

export interface TuningDeps {
  store: TuningStore;
  /** This process's hold, refreshed at once after a change here. */
  hold: TuningHold;
  /** Proposes the rules file to the team's repository; null without GITHUB_TOKEN and TUNING_REPO. */
  github: { pulls: GitHubPullRequests; repo: string; path: string } | null;
  retentionSeconds: number;
}
