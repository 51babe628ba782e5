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

function unmarkAll(value: unknown, counter: { n: number }): unknown {
  if (typeof value === "string") {
    if (!value.startsWith(MARK)) return value;
    counter.n++;
    return parseNumber(value.slice(MARK.length));
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = unmarkAll(value[i], counter);
    return value;
  }
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const next = unmarkAll(record[key], counter);
      // defineProperty, not assignment: a key named "__proto__" must stay a plain own property.
      if (next !== record[key])
        Object.defineProperty(record, key, {
          value: next,
          writable: true,
          enumerable: true,
          configurable: true,
        });
    }
  }
  return value;
}

function fastParse(text: string): { ok: true; value: unknown } | { ok: false } {
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
  const counter = { n: 0 };
  value = marked === 0 ? value : unmarkAll(value, counter);
  return counter.n === marked ? { ok: true, value } : { ok: false };
}

export function parseJsonLossless(text: string): unknown {
  const fast = fastParse(text);
  return fast.ok ? fast.value : parse(text, null, parseNumber);
}

/** JSON text with bigints written as exact integers. */
export function stringifyLossless(value: unknown, space?: number): string {
  // Same idea as parsing: bigints become marked strings for JSON.stringify, then their digits.
  let marked = 0;
  let clash = false;
  const fast = JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v === "bigint") {
        marked++;
        return `${MARK}${v.toString()}`;
      }
      if (typeof v === "string" && v.startsWith(MARK)) clash = true;
      return v;
    },
    space,
  );
  if (fast !== undefined && !clash) {
    let replaced = 0;
    const text =
      marked === 0
        ? fast
        : fast.replace(/"\\u0000lossless:(-?\d+)"/g, (_all, digits: string) => {
            replaced++;
            return digits;
          });
    if (replaced === marked) return text;
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
