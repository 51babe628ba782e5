import type { HomeSection } from "../../blocks/home.js";
import { tuningHomeSection } from "../../blocks/tune.js";
import type { ListenerDeps } from "./listeners/deps.js";

/** The Home tab's saved Falco exceptions; none where tuning is not available. */
export async function tuningSection(deps: Pick<ListenerDeps, "tuning">): Promise<HomeSection | null> {
  if (!deps.tuning) return null;
  return tuningHomeSection(await deps.tuning.store.list());
}
