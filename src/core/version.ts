// Replaced at build time by tsup (see tsup.config.ts); the fallback serves tests run from source.
declare const __GMAIL_TRANSPORT_VERSION__: string | undefined;

export const VERSION: string = typeof __GMAIL_TRANSPORT_VERSION__ === 'string' ? __GMAIL_TRANSPORT_VERSION__ : '0.0.0-dev';
