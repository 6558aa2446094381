// grpc-timeout: "TimeoutValue TimeoutUnit", at most 8 digits (PROTOCOL-HTTP2.md). Deadlines inside
// the shim are Date.now() milliseconds; Infinity means none.
const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000001 };
const TIMEOUT = /^(\d{1,8})([HMSmun])$/;
const MAX_VALUE = 99_999_999;

/** Milliseconds from a grpc-timeout value; undefined when it is malformed. */
export function parseTimeout(value: string): number | undefined {
  const m = TIMEOUT.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}

/** The grpc-timeout for `ms` (rounded up to whole milliseconds, else to the smallest unit that fits). */
export function formatTimeout(ms: number): string {
  const whole = Math.max(1, Math.ceil(ms));
  if (whole <= MAX_VALUE) return `${whole}m`;
  for (const unit of ["S", "M", "H"] as const) {
    const v = Math.ceil(whole / (UNIT_MS[unit] as number));
    if (v <= MAX_VALUE) return `${v}${unit}`;
  }
  return `${MAX_VALUE}H`;
}
