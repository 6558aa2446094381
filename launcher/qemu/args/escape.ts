// QEMU option values separate keys with commas; a literal comma in a value is written twice.
export function optValue(value: string): string {
  return value.replaceAll(",", ",,");
}
