// The unix socket file: a stale one is removed only if nothing answers on it; after binding, the
// mode (default 0660) and group are applied. The socket is created under a restrictive umask so
// it is never more open than configured, even for an instant.
import { connect } from "node:net";
import { chmod, chown, lstat, mkdir, readFile, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { STALE_SOCKET_PROBE_MS } from "../constants.js";
import { FailedPreconditionError } from "../errors.js";

/** True when something accepts connections on the socket path. */
export function socketAnswers(path: string, timeoutMs = STALE_SOCKET_PROBE_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(path);
    const done = (v: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

/** Root and this process's user may own the socket and its directory; anyone else could swap it. */
function trustedOwner(uid: number): boolean {
  return uid === 0 || uid === process.getuid?.();
}

/**
 * Makes `path` ready to bind: creates its directory; removes a stale socket of our own; refuses
 * anything else, including a directory or stale socket another user owns (they could replace the
 * socket the kubelet talks to).
 */
export async function prepareSocketPath(path: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const dirStat = await lstat(dir);
  if (!trustedOwner(dirStat.uid)) {
    throw new FailedPreconditionError(
      `socket directory ${dir} is owned by uid ${dirStat.uid}, not by root or this user: another user could ` +
        `replace the socket there; fix its owner or choose another socket.path`,
    );
  }
  let st;
  try {
    st = await lstat(path);
  } catch {
    return;
  }
  if (!st.isSocket()) {
    throw new FailedPreconditionError(
      `${path} exists and is not a socket; remove it or choose another socket.path`,
    );
  }
  if (!trustedOwner(st.uid)) {
    throw new FailedPreconditionError(
      `${path} is owned by uid ${st.uid}, not by root or this user; remove it yourself if it is really stale`,
    );
  }
  if (await socketAnswers(path)) {
    throw new FailedPreconditionError(
      `another process is serving ${path}; stop it or choose another socket.path`,
    );
  }
  await unlink(path);
}

/** Group name or id → gid, via /etc/group. */
export async function resolveGroup(group: string | number, groupFile = "/etc/group"): Promise<number> {
  if (typeof group === "number") return group;
  if (/^\d+$/.test(group)) return Number(group);
  const text = await readFile(groupFile, "utf8").catch(() => "");
  for (const line of text.split("\n")) {
    const [name, , gid] = line.split(":");
    if (name === group && gid !== undefined) return Number(gid);
  }
  throw new FailedPreconditionError(`socket.group: no group "${group}" in ${groupFile}`);
}

/** Runs `bind` with a umask that keeps the new socket private until `applySocketPermissions`. */
export async function withPrivateUmask<T>(bind: () => Promise<T>): Promise<T> {
  const previous = process.umask(0o177);
  try {
    return await bind();
  } finally {
    process.umask(previous);
  }
}

export async function applySocketPermissions(
  path: string,
  mode: number,
  group?: string | number,
): Promise<void> {
  if (group !== undefined) await chown(path, -1, await resolveGroup(group));
  await chmod(path, mode);
}

/** Removes the socket file if it is still there (after shutdown). */
export async function removeSocket(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}
