/**
 * AITBC node networking and API: REST + JSON-RPC, WebSocket subscriptions, peer transport, Prometheus metrics, typed node client.
 * @packageDocumentation
 */
