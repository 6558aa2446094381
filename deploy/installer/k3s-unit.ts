// Reading the k3s systemd unit that k3s's install.sh writes: the binary and the arguments of its
// ExecStart (each single-quoted, one per continuation line). Pure. The installer never edits this
// file any more (install.sh rewrites it on every upgrade); it only reads what k3s is started with.

/** The k3s binary path from the unit's ExecStart (install.sh writes it on the first line). */
export function k3sBinaryOf(unitText: string): string | undefined {
  return /^ExecStart=(\S+)/m.exec(unitText)?.[1];
}

/** ExecStart's words after the binary, continuation lines joined and quotes removed. */
export function execStartArgs(unitText: string): string[] {
  const m = /^ExecStart=((?:[^\n]*\\\n)*[^\n]*)$/m.exec(unitText);
  if (!m) return [];
  const line = (m[1] ?? "").replace(/\\\n/g, " ");
  const words: string[] = [];
  for (const w of line.matchAll(/'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g)) {
    words.push(w[1] ?? (w[2] !== undefined ? w[2].replace(/\\(.)/g, "$1") : (w[3] ?? "")));
  }
  return words.slice(1);
}

/**
 * The values an argv gives a k3s flag, in order: `--name=v`, `--name v` (k3s's CLI accepts both;
 * slice flags such as --kubelet-arg repeat).
 */
export function flagValues(args: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    if (a.startsWith(`--${name}=`)) out.push(a.slice(name.length + 3));
    else if (a === `--${name}` && i + 1 < args.length) out.push(args[++i] ?? "");
  }
  return out;
}
