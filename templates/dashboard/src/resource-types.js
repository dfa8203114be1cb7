// The resource types the API knows by name (GET /api/me's `resourceTypes`, from the API's
// registry `tally.resource_types`): their names, and which type a cost line's resource is
// assigned as. Pure: no DOM.

/**
 * `list`: [{key, name, serviceNames}] as GET /api/me gives it (nothing before /me answers:
 * then every type is shown by its key).
 */
export function resourceTypes(list = []) {
  const byKey = new Map(list.map((type) => [type.key, type]));
  const byService = new Map(list.flatMap((type) => type.serviceNames.map((service) => [service, type.key])));
  return {
    list,
    /** "ec2, s3, rds or lambda": the keys, in words (a form's hint). */
    keysInWords() {
      const keys = list.map((type) => type.key);
      return keys.length > 1 ? `${keys.slice(0, -1).join(", ")} or ${keys[keys.length - 1]}` : keys.join("");
    },
    /** "ec2" -> "EC2 instance"; an unknown key as it is. */
    name(key) {
      return byKey.get(key)?.name || key;
    },
    /**
     * The type to assign a resource as, from its id and the service it is billed under: an
     * ARN of a known type's service names its own type; any other ARN is assigned as "other";
     * otherwise the type whose service names hold `service` (lower-cased, as the API matches).
     */
    typeOf(resourceId, service) {
      const arn = /^arn:[^:]+:([^:]+):/.exec(resourceId);
      if (arn) return byKey.has(arn[1]) ? arn[1] : "other";
      return byService.get(String(service || "").toLowerCase()) || "other";
    },
  };
}
