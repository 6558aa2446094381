// Durations as crismux and Go write them: a number of seconds, or "500ms", "5s", "2m", "1h30m".

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
/** Durations become timer delays; Node turns anything above 2^31-1 ms (~24.8 days) into 1 ms. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

function bounded(ms: number, value: unknown): number | string {
  return ms <= MAX_DURATION_MS
    ? ms
    : `${String(value)} is too long (at most ${MAX_DURATION_MS} ms, about 24 days)`;
}

/** Milliseconds, or a message naming the accepted forms. */
export function parseDuration(value: unknown): number | string {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0)
      return `${value} is not a duration (a non-negative number of seconds)`;
    return bounded(Math.round(value * 1000), value);
  }
  if (typeof value !== "string") return `expected seconds (5) or a duration string ("5s", "500ms", "1m30s")`;
  const s = value.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return bounded(Math.round(Number(s) * 1000), value);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== s.length) {
    return `"${value}" is not a duration (use seconds like 5, or "500ms", "5s", "2m", "1h30m")`;
  }
  return bounded(Math.round(total), value);
}
