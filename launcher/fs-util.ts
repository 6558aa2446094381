// Small filesystem questions asked in many places, answered without throwing.
import fsp from "node:fs/promises";

export async function exists(file: string): Promise<boolean> {
  return (await sizeOf(file)) !== undefined;
}

/** Size in bytes, undefined when the file does not exist. */
export async function sizeOf(file: string): Promise<number | undefined> {
  return fsp.stat(file).then(
    (s) => s.size,
    () => undefined,
  );
}
