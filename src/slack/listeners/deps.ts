import type { Logger } from "pino";
import type { KnowledgeBase } from "../../enrich/knowledge.js";
import type { AlertStore } from "../../store/alert-store.js";
import type { Silences } from "../../silence/service.js";
import type { ThreadLog } from "../thread-log.js";

/** What Slack listeners need; the composition root provides it. */
export interface ListenerDeps {
  store: AlertStore;
  kb: KnowledgeBase;
  escalationChannel: string;
  /** Who may act on alerts (user and user group ids); empty: anyone. */
  allowedResponders?: string[];
  /** Records each state change in the alert message's thread. */
  threadLog: ThreadLog;
  /** Making and lifting silences; absent: the Silence buttons answer that silences are off. */
  silences?: Silences;
  log: Logger;
}
