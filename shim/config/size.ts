// Byte sizes as Kubernetes quantities write them: a number of bytes, or "512Mi", "3Gi", "1G".
// Binary suffixes (Ki, Mi, Gi, Ti) are powers of 1024, decimal ones (K, M, G, T) powers of 1000.

const UNIT_BYTES: Record<string, number> = {
  "": 1,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** Bytes, or a message naming the accepted forms. */
export function parseByteSize(value: unknown): number | string {
  const accepted = `use bytes (1073741824) or a size with a unit: Ki, Mi, Gi, Ti (powers of 1024) or K, M, G, T`;
  if (typeof value === "number") {
    return Number.isSafeInteger(value) && value > 0 ? value : `${value} is not a size: ${accepted}`;
  }
  if (typeof value !== "string") return accepted;
  const m = /^(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|K|M|G|T)?$/.exec(value.trim());
  const bytes = m ? Math.round(Number(m[1]) * (UNIT_BYTES[m[2] ?? ""] as number)) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) return `"${value}" is not a size: ${accepted}`;
  return bytes;
}

/** 1610612736 → "1.5 GiB": for logs and status lines. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}
