// Stands in for the `cloudflare:workers` module when scripts/gen-client.mjs loads the app in Node to read its
// OpenAPI document: the Durable Object classes only need a base class to extend; nothing here runs.
export class DurableObject {}
export const env = {};
