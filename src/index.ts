export { createGmailTransport, type GmailTransporter } from './transport/create.js';
export { resolveConfig } from './config/resolve-config.js';
export { loadConfig, type LoadConfigOptions } from './config/lazy.js';
export { fromEnv } from './config/from-env.js';
export {
  GmailTransportError,
  isGmailTransportError,
  ERROR_CODES,
  type ErrorCode,
  type ErrorPhase,
  type ConfigIssue,
  type GmailTransportErrorOptions,
} from './errors/error.js';
export { mapError, type MapErrorContext } from './errors/map-error.js';
export { hintFor, type Locale } from './errors/hints.js';
export type { TransportEvents, TransportEventName } from './core/events.js';
export type { GmailTransportConfig, StrategyName } from './strategies/index.js';
export type { CommonOptions, RetryOptions, SmtpOverride, ResolvedConfig } from './core/config.js';
export type { Logger } from './core/logger.js';
export type { AppPasswordConfig } from './strategies/app-password.js';
export type { IpRelayConfig, IpRelayAuth } from './strategies/ip-relay.js';
export type { OAuth2Config } from './strategies/oauth2.js';
export type { ServiceAccountConfig } from './strategies/service-account.js';
export type { TokenOptions, RefreshTokenCredentials, ServiceAccountCredentials, ServiceAccountKey } from './tokens/oauth-config.js';
export type { TokenStore, TokenLock } from './core/tokens.js';
export type { RelayConfig, RelayPreset } from './strategies/relay.js';
export type { FailoverConfig, FailoverRouteConfig } from './strategies/failover.js';
export type { GmailApiConfig } from './strategies/gmail-api.js';
export { checkDomain, type CheckDomainOptions } from './doctor/lazy.js';
export type { DoctorReport, DoctorCheck, DoctorVerdict, CheckId, CheckStatus } from './doctor/report.js';
export type { DoctorRoute } from './doctor/routes.js';
export type { DkimOptions } from './core/config.js';
export { readSendLog, type ReadSendLogOptions } from './send-log/reader.js';
export type { SendRecord, SendStatus, SendLogOptions, SendLogFileOptions, SendLogSink, SendLogRecipients } from './core/send-log.js';
export type { BudgetOptions, BudgetStatus, BudgetCount } from './core/budget.js';
