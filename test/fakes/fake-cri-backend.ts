// A small fake CRI v1 runtime for unit tests: a REAL grpc-js server (unix socket or loopback TCP)
// that decodes requests with our proto/, keeps pods, containers and images in memory, records every
// call (decoded request, raw bytes, metadata, deadline) and lets a test inject faults (delay, error
// code with trailers, hang, raw reply bytes) or kill/restart it. It echoes its name in initial
// metadata (x-fake-backend) and trailers (x-fake-trailer) so relaying can be checked.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { PROTO_PATH, type Msg } from "../harness/cri-client.js";

const root = new protobuf.Root().loadSync(PROTO_PATH, { keepCase: true });
const TO_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  defaults: true,
  bytes: Buffer,
};

export interface Fault {
  delayMs?: number;
  /** Answer with this status instead of the normal reply. */
  code?: grpc.status;
  details?: string;
  /** `-bin` keys take a Buffer. */
  trailers?: Record<string, string | Buffer>;
  /** Never answer (until the caller's deadline or cancellation). */
  hang?: boolean;
  /** Apply to this many calls, then clear (default: until cleared). */
  times?: number;
}

export interface RecordedCall {
  method: string;
  request: Msg;
  raw: Buffer;
  metadata: grpc.Metadata;
  deadline: grpc.Deadline;
  cancelled: () => boolean;
}

export interface FakeCriOptions {
  name: string;
  /** Serve on 127.0.0.1:<free port> instead of a unix socket. */
  tcp?: boolean;
  /** StatusResponse.runtime_handlers. */
  runtimeHandlers?: Msg[];
  /** Base of Exec/Attach/PortForward URLs (default http://10.0.2.15:10010). */
  streamBase?: string;
  /** SETTINGS_MAX_CONCURRENT_STREAMS of its HTTP/2 server (default: unlimited). */
  maxConcurrentStreams?: number;
}

export interface FakeCriBackend {
  name: string;
  /** Shim config form: unix:///… or tcp:127.0.0.1:PORT */
  endpoint: string;
  /** For criClient(). */
  target: string;
  calls: RecordedCall[];
  callsTo(method: string): RecordedCall[];
  sandboxes: Map<string, Msg>;
  containers: Map<string, Msg>;
  images: Map<string, Msg>;
  fault(method: string | "*", fault: Fault | undefined): void;
  /** Reply to `method` with exactly these bytes (unknown-field tests). */
  rawReply(method: string, bytes: Buffer | undefined): void;
  /** Send an event to every open GetContainerEvents stream. */
  pushEvent(event: Msg): void;
  openEventStreams(): number;
  /** Drop every connection and stop listening (a crash); restart() listens again on the same address. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

type Handler = (req: Msg, call: RecordedCall) => Msg;

const ids = (): string => randomBytes(32).toString("hex");
const now = (): string => String(Date.now() * 1_000_000);

export async function startFakeCriBackend(opts: FakeCriOptions): Promise<FakeCriBackend> {
  const dir = await mkdtemp(path.join(tmpdir(), `fake-cri-${opts.name}-`));
  const sockPath = path.join(dir, "cri.sock");
  const calls: RecordedCall[] = [];
  const sandboxes = new Map<string, Msg>();
  const containers = new Map<string, Msg>();
  const images = new Map<string, Msg>();
  const faults = new Map<string, Fault>();
  const raws = new Map<string, Buffer>();
  const eventStreams = new Set<grpc.ServerWritableStream<Buffer, Buffer>>();
  const streamBase = opts.streamBase ?? "http://10.0.2.15:10010";
  const notFound = (what: string): Error =>
    Object.assign(new Error(`${what} not found`), {
      code: grpc.status.NOT_FOUND,
      details: `${what} not found`,
    });

  const sandboxOf = (id: string): Msg => {
    const s = sandboxes.get(id);
    if (!s) throw notFound(`sandbox ${id}`);
    return s;
  };
  const containerOf = (id: string): Msg => {
    const c = containers.get(id);
    if (!c) throw notFound(`container ${id}`);
    return c;
  };

  const handlers: Record<string, Handler> = {
    Version: () => ({
      version: "0.1.0",
      runtime_name: `fake-${opts.name}`,
      runtime_version: "1.0",
      runtime_api_version: "v1",
    }),
    Status: () => ({
      status: {
        conditions: [
          { type: "RuntimeReady", status: true },
          { type: "NetworkReady", status: true },
        ],
      },
      runtime_handlers: opts.runtimeHandlers ?? [],
    }),
    RunPodSandbox: (req) => {
      const id = ids();
      sandboxes.set(id, {
        id,
        metadata: req.config?.metadata,
        state: "SANDBOX_READY",
        created_at: now(),
        labels: req.config?.labels ?? {},
        annotations: req.config?.annotations ?? {},
        runtime_handler: req.runtime_handler,
      });
      return { pod_sandbox_id: id };
    },
    StopPodSandbox: (req) => {
      const s = sandboxes.get(req.pod_sandbox_id);
      if (s) s.state = "SANDBOX_NOTREADY";
      return {};
    },
    RemovePodSandbox: (req) => {
      sandboxes.delete(req.pod_sandbox_id);
      for (const [id, c] of containers) if (c.pod_sandbox_id === req.pod_sandbox_id) containers.delete(id);
      return {};
    },
    PodSandboxStatus: (req) => {
      const s = sandboxOf(req.pod_sandbox_id);
      return { status: { ...s, network: { ip: "10.0.0.2" } }, info: {} };
    },
    ListPodSandbox: (req) => ({
      items: [...sandboxes.values()].filter((s) => !req.filter?.id || s.id === req.filter.id),
    }),
    CreateContainer: (req) => {
      sandboxOf(req.pod_sandbox_id);
      const id = ids();
      containers.set(id, {
        id,
        pod_sandbox_id: req.pod_sandbox_id,
        metadata: req.config?.metadata,
        image: req.config?.image,
        image_ref: req.config?.image?.image ?? "",
        state: "CONTAINER_CREATED",
        created_at: now(),
        labels: req.config?.labels ?? {},
        annotations: req.config?.annotations ?? {},
      });
      return { container_id: id };
    },
    StartContainer: (req) => {
      containerOf(req.container_id).state = "CONTAINER_RUNNING";
      return {};
    },
    StopContainer: (req) => {
      const c = containers.get(req.container_id);
      if (c) c.state = "CONTAINER_EXITED";
      return {};
    },
    RemoveContainer: (req) => {
      containers.delete(req.container_id);
      return {};
    },
    ContainerStatus: (req) => ({ status: { ...containerOf(req.container_id) }, info: {} }),
    ListContainers: (req) => ({
      containers: [...containers.values()].filter(
        (c) =>
          (!req.filter?.id || c.id === req.filter.id) &&
          (!req.filter?.pod_sandbox_id || c.pod_sandbox_id === req.filter.pod_sandbox_id),
      ),
    }),
    ExecSync: (req) => {
      containerOf(req.container_id);
      return {
        stdout: Buffer.from(`${opts.name}:${(req.cmd as string[]).join(" ")}\n`),
        stderr: Buffer.alloc(0),
        exit_code: 0,
      };
    },
    Exec: (req) => {
      containerOf(req.container_id);
      return { url: `${streamBase}/exec/${opts.name}-token?x=1` };
    },
    Attach: (req) => {
      containerOf(req.container_id);
      return { url: `${streamBase}/attach/${opts.name}-token` };
    },
    PortForward: (req) => {
      sandboxOf(req.pod_sandbox_id);
      return { url: `${streamBase}/portforward/${opts.name}-token` };
    },
    ListContainerStats: () => ({
      stats: [...containers.values()].map((c) => ({ attributes: { id: c.id } })),
    }),
    ListPodSandboxStats: () => ({
      stats: [...sandboxes.values()].map((s) => ({ attributes: { id: s.id } })),
    }),
    UpdateRuntimeConfig: () => ({}),
    RuntimeConfig: () => ({ linux: { cgroup_driver: "CGROUPFS" } }),
    ImageStatus: (req) => {
      const img = images.get(req.image?.image ?? "");
      return img ? { image: img, info: {} } : { info: {} };
    },
    PullImage: (req) => {
      const ref = req.image?.image ?? "";
      images.set(ref, { id: `sha256:${opts.name}-${ref}`, repo_tags: [ref], size: "1" });
      return { image_ref: `sha256:${opts.name}-${ref}` };
    },
    RemoveImage: (req) => {
      images.delete(req.image?.image ?? "");
      return {};
    },
    ListImages: () => ({ images: [...images.values()] }),
    ImageFsInfo: () => ({
      image_filesystems: [{ timestamp: now(), fs_id: { mountpoint: `/fake/${opts.name}` } }],
    }),
  };

  const takeFault = (method: string): Fault | undefined => {
    const f = faults.get(method) ?? faults.get("*");
    if (!f) return undefined;
    if (f.times !== undefined) {
      f.times--;
      if (f.times <= 0) {
        faults.delete(method);
        faults.delete("*");
      }
    }
    return f;
  };

  const faultError = (f: Fault): grpc.ServerErrorResponse => {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(f.trailers ?? {})) md.set(k, v);
    return Object.assign(new Error(f.details ?? "injected"), {
      code: f.code ?? grpc.status.UNKNOWN,
      details: f.details ?? "injected",
      metadata: md,
    });
  };

  const services = root
    .lookupService("runtime.v1.RuntimeService")
    .methodsArray.concat(root.lookupService("runtime.v1.ImageService").methodsArray);
  const defs: Record<string, Record<string, grpc.MethodDefinition<Buffer, Buffer>>> = {};
  const impls: Record<string, grpc.UntypedServiceImplementation> = {};
  for (const m of services) {
    const service = (m.parent as protobuf.Service).name;
    const reqType = root.lookupType(`runtime.v1.${m.requestType}`);
    const resType = root.lookupType(`runtime.v1.${m.responseType}`);
    const encode = (obj: Msg): Buffer => Buffer.from(resType.encode(resType.fromObject(obj)).finish());
    (defs[service] ??= {})[m.name] = {
      path: `/runtime.v1.${service}/${m.name}`,
      requestStream: false,
      responseStream: Boolean(m.responseStream),
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    };
    const record = (
      call: grpc.ServerUnaryCall<Buffer, Buffer> | grpc.ServerWritableStream<Buffer, Buffer>,
    ): RecordedCall => {
      let request: Msg;
      try {
        request = reqType.toObject(reqType.decode(call.request), TO_OBJECT);
      } catch {
        request = { __undecodable: true };
      }
      const rec: RecordedCall = {
        method: m.name,
        request,
        raw: Buffer.from(call.request),
        metadata: call.metadata,
        deadline: call.getDeadline(),
        cancelled: () => call.cancelled,
      };
      calls.push(rec);
      return rec;
    };
    if (m.responseStream) {
      (impls[service] ??= {})[m.name] = (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        const rec = record(call);
        const fault = takeFault(m.name);
        if (fault?.code !== undefined) {
          call.emit("error", faultError(fault));
          return;
        }
        if (m.name === "GetContainerEvents") {
          eventStreams.add(call);
          call.on("cancelled", () => eventStreams.delete(call));
          call.on("close", () => eventStreams.delete(call));
          return;
        }
        if (m.name === "StreamContainers") {
          const list = handlers.ListContainers!(rec.request, rec).containers as Msg[];
          for (const c of list) call.write(encode({ containers: [c] }));
        }
        call.end();
      };
    } else {
      (impls[service] ??= {})[m.name] = (
        call: grpc.ServerUnaryCall<Buffer, Buffer>,
        callback: grpc.sendUnaryData<Buffer>,
      ) => {
        const rec = record(call);
        const fault = takeFault(m.name);
        const answer = (): void => {
          if (fault?.code !== undefined) return callback(faultError(fault));
          const header = new grpc.Metadata();
          header.set("x-fake-backend", opts.name);
          call.sendMetadata(header);
          const trailer = new grpc.Metadata();
          trailer.set("x-fake-trailer", opts.name);
          const raw = raws.get(m.name);
          if (raw) return callback(null, raw, trailer);
          const h = handlers[m.name];
          if (!h)
            return callback({ code: grpc.status.UNIMPLEMENTED, details: `fake ${opts.name}: ${m.name}` });
          try {
            callback(null, encode(h(rec.request, rec)), trailer);
          } catch (err) {
            callback(err as grpc.ServerErrorResponse);
          }
        };
        if (fault?.hang) return;
        if (fault?.delayMs) setTimeout(answer, fault.delayMs);
        else answer();
      };
    }
  }

  let server: grpc.Server | undefined;
  let port = 0;
  const listen = async (): Promise<void> => {
    const s = new grpc.Server({
      "grpc.max_receive_message_length": 16 << 20,
      "grpc.max_send_message_length": 16 << 20,
      ...(opts.maxConcurrentStreams ? { "grpc.max_concurrent_streams": opts.maxConcurrentStreams } : {}),
    });
    for (const [name, def] of Object.entries(defs)) s.addService(def, impls[name] ?? {});
    const address = opts.tcp ? `127.0.0.1:${port}` : `unix://${sockPath}`;
    port = await new Promise<number>((resolve, reject) =>
      s.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    server = s;
  };
  await listen();

  const endpoint = opts.tcp ? `tcp:127.0.0.1:${port}` : `unix://${sockPath}`;
  const target = opts.tcp ? `127.0.0.1:${port}` : `unix://${sockPath}`;
  return {
    name: opts.name,
    endpoint,
    target,
    calls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    sandboxes,
    containers,
    images,
    fault(method, f) {
      if (f) faults.set(method, { ...f });
      else faults.delete(method);
    },
    rawReply(method, bytes) {
      if (bytes) raws.set(method, bytes);
      else raws.delete(method);
    },
    pushEvent(event) {
      const type = root.lookupType("runtime.v1.ContainerEventResponse");
      const bytes = Buffer.from(type.encode(type.fromObject(event)).finish());
      for (const s of eventStreams) s.write(bytes);
    },
    openEventStreams: () => eventStreams.size,
    async kill() {
      eventStreams.clear();
      server?.forceShutdown();
      server = undefined;
    },
    async restart() {
      if (!server) await listen();
    },
    async stop() {
      server?.forceShutdown();
      server = undefined;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
