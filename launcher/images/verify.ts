// Checksums: the SHA512SUMS list published beside an image, or a digest from the configuration.
// A mismatch deletes the file (so the next run downloads it anew) and says so.
import { createHash } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { ChecksumMismatchError } from "../errors.js";

export type Algorithm = "sha256" | "sha512";

export interface ExpectedDigest {
  algorithm: Algorithm;
  hex: string;
  /** Where the expectation came from, for messages. */
  source: string;
}

/** Parses "<hex>  <name>" / "<hex> *<name>" lines (sha512sum's output). */
export function parseSums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([0-9a-fA-F]{32,128})\s+\*?(.+)$/.exec(line.trim());
    if (m) sums.set(m[2]!.replace(/^\.\//, ""), m[1]!.toLowerCase());
  }
  return sums;
}

/** "sha512:<hex>" / "sha256:<hex>" from the configuration. */
export function parseDigest(spec: string, source: string): ExpectedDigest | undefined {
  const m = /^(sha256|sha512):([0-9a-fA-F]+)$/.exec(spec.trim());
  return m ? { algorithm: m[1] as Algorithm, hex: m[2]!.toLowerCase(), source } : undefined;
}

export async function fileDigest(file: string, algorithm: Algorithm): Promise<string> {
  const hash = createHash(algorithm);
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest("hex");
}

export async function verifyFile(file: string, expected: ExpectedDigest): Promise<void> {
  const actual = await fileDigest(file, expected.algorithm);
  if (actual === expected.hex) return;
  await fsp.rm(file, { force: true });
  throw new ChecksumMismatchError(
    `${file}: ${expected.algorithm} mismatch (expected ${expected.hex.slice(0, 16)}… per ${expected.source}, ` +
      `got ${actual.slice(0, 16)}…); the file was deleted, run again to download it anew`,
  );
}
