// For display only (dry run, debug): the launcher itself never runs a shell string.
const SAFE = /^[A-Za-z0-9_\-+=:,./@%]+$/;

export function shellQuote(arg: string): string {
  if (arg !== "" && SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}
