import type { HomeSection } from "../../blocks/home.js";
import { type SilenceSummary, silencesHomeSection } from "../../blocks/silence.js";
import type { SilenceStore } from "../store/silences.js";
import type { ListenerDeps } from "./listeners/deps.js";
import { summaryOf } from "./silence-end.js";

/** The active silences, soonest end first, each with how many alerts it has held back so far. */
export async function activeSilenceSummaries(store: SilenceStore): Promise<SilenceSummary[]> {
  const active = await store.active();
  const held = await Promise.all(active.map((s) => store.held(s.id)));
  return active.map((s, i) => summaryOf(s, held[i]!));
}

/** The Home tab's active silences; none without silences set up, as there is nothing to show or lift. */
export async function silencesSection(deps: Pick<ListenerDeps, "silences">): Promise<HomeSection | null> {
  if (!deps.silences) return null;
  return silencesHomeSection(await activeSilenceSummaries(deps.silences.store));
}
