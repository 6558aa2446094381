// Static imports of a TypeScript file, read with the compiler's parser: `import … from`, `export …
// from` and `import x = require()`. Dynamic import() is how a module loads something lazily and is
// not one of them. Used by check-cycles.ts and by the test that keeps the serving shim's module
// set lean (test/unit/shim-runtime-imports.test.ts).
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import ts from "typescript";

export interface StaticImport {
  /** As written: "./x.js", "node:fs", "zod". */
  specifier: string;
  /** Erased at run time (`import type`, `export type`, or every named binding `type`). */
  typeOnly: boolean;
}

export function staticImports(file: string): StaticImport[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, false);
  const out: StaticImport[] = [];
  for (const s of source.statements) {
    if (ts.isImportDeclaration(s) && ts.isStringLiteral(s.moduleSpecifier)) {
      const c = s.importClause;
      const allTypes =
        c !== undefined &&
        c.name === undefined &&
        c.namedBindings !== undefined &&
        ts.isNamedImports(c.namedBindings) &&
        c.namedBindings.elements.length > 0 &&
        c.namedBindings.elements.every((e) => e.isTypeOnly);
      out.push({ specifier: s.moduleSpecifier.text, typeOnly: (c?.isTypeOnly ?? false) || allTypes });
    } else if (ts.isExportDeclaration(s) && s.moduleSpecifier && ts.isStringLiteral(s.moduleSpecifier)) {
      out.push({ specifier: s.moduleSpecifier.text, typeOnly: s.isTypeOnly });
    } else if (
      ts.isImportEqualsDeclaration(s) &&
      ts.isExternalModuleReference(s.moduleReference) &&
      ts.isStringLiteral(s.moduleReference.expression)
    ) {
      out.push({ specifier: s.moduleReference.expression.text, typeOnly: s.isTypeOnly });
    }
  }
  return out;
}

/** A relative specifier of `file` as the absolute .ts path it names; undefined for a package. */
export function resolveRelative(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  return resolve(dirname(file), specifier).replace(/\.js$/, ".ts");
}
