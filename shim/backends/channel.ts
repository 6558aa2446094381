// How a backend channel is made: credentials (insecure for unix, TLS/mTLS when configured) and the
// options every backend channel needs (16 MiB both ways, a large flow-control window, quick reconnect).
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import {
  FLOW_CONTROL_WINDOW_BYTES,
  MAX_MESSAGE_BYTES,
  RECONNECT_BACKOFF_INITIAL_MS,
  RECONNECT_BACKOFF_MAX_MS,
  SHIM_RUNTIME_NAME,
  SHIM_VERSION,
} from "../constants.js";
import type { BackendConfig } from "../config/types.js";

export function channelOptions(userAgent?: string): grpc.ChannelOptions {
  return {
    "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
    "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
    "grpc-node.flow_control_window": FLOW_CONTROL_WINDOW_BYTES,
    "grpc.initial_reconnect_backoff_ms": RECONNECT_BACKOFF_INITIAL_MS,
    "grpc.max_reconnect_backoff_ms": RECONNECT_BACKOFF_MAX_MS,
    "grpc.enable_channelz": 0,
    // grpc-js puts this first in the user-agent it sends; the caller's own is forwarded this way.
    "grpc.primary_user_agent": userAgent ?? `${SHIM_RUNTIME_NAME}/${SHIM_VERSION}`,
  };
}

/** Reads the PEM files once per channel; missing files were reported by loadConfigFile already. */
export function channelCredentials(config: BackendConfig): grpc.ChannelCredentials {
  const tls = config.tls;
  if (!tls) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(
    readFileSync(tls.ca),
    tls.key ? readFileSync(tls.key) : null,
    tls.cert ? readFileSync(tls.cert) : null,
  );
}

export function tlsNameOverride(config: BackendConfig): grpc.ChannelOptions {
  return config.tls?.serverName ? { "grpc.ssl_target_name_override": config.tls.serverName } : {};
}
