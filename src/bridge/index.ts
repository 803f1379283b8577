/**
 * `gmail-transport/bridge`: the SMTP bridge as code (what `gmail-transport serve` runs). An entry
 * of its own, so an application that only sends through the transport never loads the bridge's
 * config, its validation and its listener.
 */
export { createBridge } from './server.js';
export { hashPassword } from './password-hash.js';
export type {
  Bridge,
  BridgeOptions,
  BridgeListenOptions,
  BridgeTlsOptions,
  BridgeTlsFiles,
  BridgeTlsSelfSigned,
  BridgeTlsVersion,
  BridgeAccount,
  BridgeLimits,
  BridgeAddress,
  BridgeEvents,
  BridgeMessageRecord,
  BridgeRefusalRecord,
  BridgeLockoutRecord,
  BridgeStatus,
  BridgeAdminOptions,
  BridgeAdminUser,
  BridgeAdminAddress,
} from './types.js';
