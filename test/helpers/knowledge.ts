import { loadKnowledgeBase, type KnowledgeBase } from "../../src/enrich/knowledge.js";

let shipped: KnowledgeBase | undefined;

/**
 * The knowledge base as shipped, read once per test worker: the unit project shares one module graph
 * per worker, and reading it takes about half a second. Tests must not change it.
 */
export function shippedKnowledgeBase(): KnowledgeBase {
  shipped ??= Object.freeze(loadKnowledgeBase());
  return shipped;
}
