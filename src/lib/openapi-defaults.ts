/**
 * The generator lists a field with a zod `.default()` as required in request bodies too (it describes the
 * parsed output), so a typed client would have to send fields the API fills in itself. This pass, over the
 * finished document, drops such fields from `required` in every schema a request body reaches. Pure.
 */
type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function relax(schema: unknown, components: Json, seen: Set<unknown>): void {
  if (!isObj(schema) || seen.has(schema)) return;
  seen.add(schema);
  const ref = schema.$ref;
  if (typeof ref === "string" && ref.startsWith("#/components/schemas/"))
    relax(components[ref.slice("#/components/schemas/".length)], components, seen);
  const props = isObj(schema.properties) ? schema.properties : {};
  if (Array.isArray(schema.required))
    schema.required = schema.required.filter((name) => !(isObj(props[name]) && "default" in props[name]));
  for (const p of Object.values(props)) relax(p, components, seen);
  for (const key of ["items", "additionalProperties", "not"]) relax(schema[key], components, seen);
  for (const key of ["allOf", "anyOf", "oneOf"])
    if (Array.isArray(schema[key])) for (const s of schema[key] as unknown[]) relax(s, components, seen);
}

export function relaxRequestDefaults<T extends Json>(doc: T): T {
  const components = (isObj(doc.components) && isObj(doc.components.schemas) ? doc.components.schemas : {}) as Json;
  const seen = new Set<unknown>();
  for (const item of Object.values(isObj(doc.paths) ? doc.paths : {}))
    for (const op of Object.values(isObj(item) ? item : {})) {
      const content = isObj(op) && isObj(op.requestBody) ? op.requestBody.content : null;
      for (const media of Object.values(isObj(content) ? content : {}))
        if (isObj(media)) relax(media.schema, components, seen);
    }
  return doc;
}
