// A checker for the JSON Schema subset the server enforces (type, enum, const, properties, required,
// additionalProperties, items, min/maxItems, min/maxLength, anyOf, oneOf), written independently of it.
export function matchesSchema(v, s) {
  if (s === true) return true;
  if (s === false) return false;
  const type = (x) => (x === null ? "null" : Array.isArray(x) ? "array" : typeof x === "object" ? "object" : typeof x);
  if (s.anyOf && !s.anyOf.some((a) => matchesSchema(v, a))) return false;
  if (s.oneOf && s.oneOf.filter((a) => matchesSchema(v, a)).length !== 1) return false;
  if (s.enum && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) return false;
  if ("const" in s && JSON.stringify(s.const) !== JSON.stringify(v)) return false;
  if (s.type) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    const ok = types.some((t) => (t === "integer" ? Number.isInteger(v) : t === "number" ? typeof v === "number" : type(v) === t));
    if (!ok) return false;
  }
  if (type(v) === "object") {
    for (const r of s.required ?? []) if (!(r in v)) return false;
    for (const [k, x] of Object.entries(v)) {
      if (s.properties && k in s.properties) {
        if (!matchesSchema(x, s.properties[k])) return false;
      } else if ("additionalProperties" in s && !matchesSchema(x, s.additionalProperties)) {
        return false;
      }
    }
  }
  if (type(v) === "array") {
    if (v.length < (s.minItems ?? 0) || v.length > (s.maxItems ?? Infinity)) return false;
    if (s.items && !v.every((x) => matchesSchema(x, s.items))) return false;
  }
  if (type(v) === "string") {
    const n = [...v].length;
    if (n < (s.minLength ?? 0) || n > (s.maxLength ?? Infinity)) return false;
  }
  return true;
}
