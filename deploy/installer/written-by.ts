// The first line of every file install writes: how clean (and a second install) know it is ours.
export const HEADER =
  "# Written by `hydra-shim install`; `hydra-shim clean` removes it. Edits are overwritten.";
export const DOCS_URL = "https://github.com/smarter-project/hydra";

export function writtenByUs(content: Buffer): boolean {
  return content.subarray(0, HEADER.length).toString("utf8") === HEADER;
}
