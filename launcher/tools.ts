// External programs the launcher runs, the packages that provide them, and one way to run them:
// a missing program becomes a MissingToolError naming its package, a failure keeps its stderr.
import { execa } from "execa";
import { EXIT, type ExitCode, MissingToolError, ToolFailedError } from "./errors.js";

interface ToolPackage {
  debian: string;
  homebrew: string;
}

const PACKAGES: Record<string, ToolPackage> = {
  "qemu-img": { debian: "qemu-utils", homebrew: "qemu" },
  genisoimage: { debian: "genisoimage", homebrew: "cdrtools" },
  mkisofs: { debian: "genisoimage", homebrew: "cdrtools" },
  xorriso: { debian: "xorriso", homebrew: "xorriso" },
  xz: { debian: "xz-utils", homebrew: "xz" },
  bzip2: { debian: "bzip2", homebrew: "bzip2" },
  unzip: { debian: "unzip", homebrew: "unzip" },
  tar: { debian: "tar", homebrew: "gnu-tar" },
  ssh: { debian: "openssh-client", homebrew: "openssh" },
  "ssh-keygen": { debian: "openssh-client", homebrew: "openssh" },
  openssl: { debian: "openssl", homebrew: "openssl@3" },
};

export function packageOf(tool: string): ToolPackage {
  if (tool.startsWith("qemu-system-")) {
    const arch = tool.slice("qemu-system-".length);
    const debian =
      arch === "x86_64" || arch === "i386"
        ? "qemu-system-x86"
        : arch === "aarch64"
          ? "qemu-system-arm"
          : "qemu-system";
    return { debian, homebrew: "qemu" };
  }
  return PACKAGES[tool] ?? { debian: tool, homebrew: tool };
}

export function missingTool(tool: string, purpose: string): MissingToolError {
  const p = packageOf(tool);
  return new MissingToolError(tool, p.debian, p.homebrew, purpose);
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion; `purpose` completes "needed for …" in a missing-tool error. */
export async function runTool(
  tool: string,
  args: readonly string[],
  opts: { purpose: string; failCode?: ExitCode; cwd?: string; timeoutMs?: number },
): Promise<RunResult> {
  const result = await execa(tool, args, {
    reject: false,
    stdin: "ignore",
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.timeoutMs ? { timeout: opts.timeoutMs } : {}),
  });
  if (isEnoent(result)) throw missingTool(tool, opts.purpose);
  if (result.failed) {
    throw new ToolFailedError(
      [tool, ...args].join(" "),
      result.exitCode,
      result.stderr || result.shortMessage || "",
      opts.failCode ?? EXIT.failure,
    );
  }
  return { stdout: result.stdout, stderr: result.stderr };
}

export function isEnoent(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === "ENOENT";
}

/** Whether a program is on PATH (without running it). */
export async function hasTool(tool: string): Promise<boolean> {
  const { access, constants } = await import("node:fs/promises");
  const path = await import("node:path");
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    try {
      await access(path.join(dir, tool), constants.X_OK);
      return true;
    } catch {
      // not in this PATH entry
    }
  }
  return false;
}
