/**
 * Shared HTTP service plumbing for AITBC servers (pool hub, coordinator, node API, wallet daemon):
 * fastify with the standard `{error:{code,message,details?}}` envelope, a role on every route, hashed
 * API keys compared in constant time, per-IP rate limits with `Retry-After`, and a private Prometheus
 * registry.
 * @packageDocumentation
 */
export { type ApiKeyEntry, ApiKeyRing, apiKeyEntries, hashApiKey, type Principal } from './apiKeyRing.js';
export { createService, type Service, type ServiceLogLevel, type ServiceOptions, sendError } from './createService.js';
