import { isInteger, isSafeNumber, parse, stringify } from "lossless-json";

/**
 * Falco writes 19-digit nanosecond integers (`evt.time`, `container.start_ts`) and even unsigned
 * 64-bit values; `JSON.parse` silently rounds them. Integers that do not fit a double stay exact as
 * bigint; every other number is a plain number.
 */
function parseNumber(text: string): number | bigint {
  if (isSafeNumber(text)) return Number(text);
  if (isInteger(text)) return BigInt(text);
  return Number(text);
}

/*
 * Speed: lossless-json parses in JavaScript, several times slower than the engine's JSON.parse and
 * with far more garbage, and every Falco alert carries a 19-digit `evt.time`. So the integer
 * literals a double could round (16 digits or more) are first turned into marked strings, the text
 * goes through JSON.parse, and the marked strings become numbers again exactly as lossless-json
 * would make them. Whenever that cannot be shown to be exact (the text is not JSON as it stands, a
 * literal sat inside a string, or the input already held something that looks like a mark),
 * lossless-json parses the original text itself, so its results and its error messages stand.
 */
const MARK = "\u0000lossless:";
const LONG_INTEGER = /(?<![\d.eE+-])-?\d{16,}(?![\d.eE])/g;

/** Thrown when a document nests deeper than the caller allows. */
export class JsonDepthError extends Error {
  constructor(readonly limit: number) {
    super(`nested deeper than ${limit} levels`);
  }
}

/** The deepest nesting of arrays and objects in a JSON text, strings skipped; stops counting past `limit`. */
export function jsonDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 93 || c === 125) depth--;
  }
  return max;
}

/** Sets an own data property; for a key named "__proto__" assignment would set the prototype instead. */
function setOwn(record: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__")
    Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
  else record[key] = value;
}

interface Unmarking {
  /** Marked strings turned back into numbers so far. */
  n: number;
  maxDepth: number;
}

/** Turns marked strings back into numbers, in place, and checks the nesting depth on the way. */
function unmarkAll(value: unknown, state: Unmarking, depth: number): unknown {
  if (typeof value === "string") {
    if (value.charCodeAt(0) !== 0 || !value.startsWith(MARK)) return value;
    state.n++;
    return parseNumber(value.slice(MARK.length));
  }
  if (value === null || typeof value !== "object") return value;
  if (depth >= state.maxDepth) throw new JsonDepthError(state.maxDepth);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = unmarkAll(value[i], state, depth + 1);
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const next = unmarkAll(record[key], state, depth + 1);
    if (next !== record[key]) setOwn(record, key, next);
  }
  return value;
}

// The engine's JSON.parse does not recurse, so any depth is safe for it; the walk after it checks
// the depth before anything recursive (this module's own walk, zod) sees the document.
function fastParse(text: string, maxDepth: number): { ok: true; value: unknown } | { ok: false } {
  if (text.includes("\\u0000lossless:") || text.includes(MARK)) return { ok: false };
  let marked = 0;
  const prepared = text.replace(LONG_INTEGER, (literal) => {
    marked++;
    return `"\\u0000lossless:${literal}"`;
  });
  let value: unknown;
  try {
    value = JSON.parse(prepared);
  } catch {
    return { ok: false };
  }
  const state = { n: 0, maxDepth };
  value = unmarkAll(value, state, 0);
  return state.n === marked ? { ok: true, value } : { ok: false };
}

/**
 * Parses JSON with integers a double cannot hold as bigint. With `maxDepth`, a document nested
 * deeper than that throws JsonDepthError instead of being parsed.
 */
export function parseJsonLossless(text: string, maxDepth = Number.POSITIVE_INFINITY): unknown {
  const fast = fastParse(text, maxDepth);
  if (fast.ok) return fast.value;
  // lossless-json's parser recurses: a deep document must not reach it.
  if (Number.isFinite(maxDepth) && jsonDepth(text, maxDepth) > maxDepth) throw new JsonDepthError(maxDepth);
  return parse(text, null, parseNumber);
}

interface Marking {
  /** Bigints replaced by marked strings. */
  n: number;
}

/**
 * The value with every bigint replaced by a marked string, copying only the objects and arrays on
 * the way to one (Falco alerts carry a bigint or two among dozens of values). A walk rather than a
 * JSON.stringify replacer, which would be called for every value and costs several times as much.
 */
function markBigints(value: unknown, state: Marking, seen: unknown[]): unknown {
  switch (typeof value) {
    case "bigint":
      state.n++;
      return `${MARK}${value.toString()}`;
    case "object":
      break;
    default:
      return value;
  }
  if (value === null) return value;
  // What JSON.stringify would write for an object with toJSON (a Date, say) is what toJSON returns.
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") return markBigints(toJSON.call(value), state, seen);
  // A cycle: leave it to JSON.stringify, which throws for it as it should.
  if (seen.includes(value)) return value;
  seen.push(value);
  let out: unknown = value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const next = markBigints(value[i], state, seen);
      if (next !== value[i]) {
        if (out === value) out = value.slice();
        (out as unknown[])[i] = next;
      }
    }
  } else {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    for (let i = 0; i < keys.length; i++) {
      const next = markBigints(record[keys[i]!], state, seen);
      if (next !== record[keys[i]!]) {
        // Spread defines own data properties, "__proto__" included.
        if (out === value) out = { ...record };
        setOwn(out as Record<string, unknown>, keys[i]!, next);
      }
    }
  }
  seen.pop();
  return out;
}

/** JSON text with bigints written as exact integers. */
export function stringifyLossless(value: unknown, space?: number): string {
  // Same idea as parsing: bigints become marked strings for JSON.stringify, then their digits. A
  // string of the input that looks like a mark is caught by the count: more marks replaced than
  // bigints marked sends the value to lossless-json.
  const state: Marking = { n: 0 };
  const marked = markBigints(value, state, []);
  const fast = JSON.stringify(marked, null, space);
  if (fast !== undefined) {
    let replaced = 0;
    const text =
      state.n === 0
        ? fast
        : fast.replace(/"\\u0000lossless:(-?\d+)"/g, (_all, digits: string) => {
            replaced++;
            return digits;
          });
    if (replaced === state.n) return text;
  }
  const text = stringify(value, null, space);
  if (text === undefined) throw new TypeError("value cannot be represented as JSON");
  return text;
}

/**
 * Some Falco versions wrote an empty value for a missing number (`"evt.time":,` or `"user.uid":}`),
 * which is not JSON. Insert `null` there, and only there: every other byte, inside strings included,
 * is kept. Returns null when there was nothing of that kind to repair.
 */
export function repairEmptyValues(text: string): string | null {
  let out = "";
  let inString = false;
  let escaped = false;
  let changed = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    out += ch;
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === "\\") escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
    } else if (ch === ":") {
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j] as string)) j++;
      if (text[j] === "," || text[j] === "}") {
        out += "null";
        changed = true;
      }
    }
  }
  return changed ? out : null;
}
