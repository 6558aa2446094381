// SHA-512 crypt ($6$), per Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512" (the
// algorithm behind `openssl passwd -6` and glibc's crypt). Default 5000 rounds, salt ≤ 16.
import { createHash } from "node:crypto";

const ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ROUNDS = 5000;
/** The byte order in which the final digest is encoded, three bytes at a time. */
const ORDER: readonly (readonly [number, number, number])[] = [
  [0, 21, 42],
  [22, 43, 1],
  [44, 2, 23],
  [3, 24, 45],
  [25, 46, 4],
  [47, 5, 26],
  [6, 27, 48],
  [28, 49, 7],
  [50, 8, 29],
  [9, 30, 51],
  [31, 52, 10],
  [53, 11, 32],
  [12, 33, 54],
  [34, 55, 13],
  [56, 14, 35],
  [15, 36, 57],
  [37, 58, 16],
  [59, 17, 38],
  [18, 39, 60],
  [40, 61, 19],
  [62, 20, 41],
];

const sha512 = (...parts: Buffer[]): Buffer => {
  const h = createHash("sha512");
  for (const p of parts) h.update(p);
  return h.digest();
};

/** `len` bytes of `digest` repeated (the algorithm's "sequence P/S"). */
function repeatTo(digest: Buffer, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i += digest.length) digest.copy(out, i, 0, Math.min(digest.length, len - i));
  return out;
}

export function sha512Crypt(password: string, salt: string): string {
  const p = Buffer.from(password, "utf8");
  const s = Buffer.from(salt.slice(0, 16), "utf8");

  const b = sha512(p, s, p);
  const a = createHash("sha512").update(p).update(s).update(repeatTo(b, p.length));
  for (let n = p.length; n > 0; n >>= 1) a.update(n & 1 ? b : p);
  const aDigest = a.digest();

  const pSeq = repeatTo(sha512(...Array.from({ length: p.length }, () => p)), p.length);
  const sSeq = repeatTo(sha512(...Array.from({ length: 16 + aDigest[0]! }, () => s)), s.length);

  let c = aDigest;
  for (let i = 0; i < ROUNDS; i++) {
    const h = createHash("sha512");
    h.update(i & 1 ? pSeq : c);
    if (i % 3 !== 0) h.update(sSeq);
    if (i % 7 !== 0) h.update(pSeq);
    h.update(i & 1 ? c : pSeq);
    c = h.digest();
  }

  let out = "";
  const encode = (b2: number, b1: number, b0: number, n: number) => {
    let w = (b2 << 16) | (b1 << 8) | b0;
    for (let i = 0; i < n; i++, w >>= 6) out += ITOA64[w & 0x3f];
  };
  for (const [x, y, z] of ORDER) encode(c[x]!, c[y]!, c[z]!, 4);
  encode(0, 0, c[63]!, 2);
  return `$6$${s.toString("utf8")}$${out}`;
}
