// The deployment's settings, read at run time from config.json next to index.html: the same
// built files serve every deployment (CDK writes config.json into the bucket; the local
// gateway answers /config.json from the local stack's values).

const REQUIRED = ["apiUrl", "region", "userPoolId", "clientId"];

export class ConfigError extends Error {}

export async function loadConfig() {
  let response;
  try {
    response = await fetch("config.json", { cache: "no-store", credentials: "omit" });
  } catch (error) {
    throw new ConfigError(`config.json could not be fetched (${error.message})`);
  }
  if (!response.ok) throw new ConfigError(`config.json answered ${response.status}`);
  // CloudFront answers unknown paths with index.html: that is "missing", not "broken".
  const raw = await response.json().catch(() => {
    throw new ConfigError("config.json is not JSON (is it deployed?)");
  });
  const missing = REQUIRED.filter((key) => typeof raw[key] !== "string" || !raw[key]);
  if (missing.length) throw new ConfigError(`config.json lacks ${missing.join(", ")}`);
  const apiUrl = new URL(raw.apiUrl, window.location.href).href.replace(/\/+$/, "");
  return Object.freeze({
    apiUrl,
    region: raw.region,
    userPoolId: raw.userPoolId,
    clientId: raw.clientId,
    cognitoEndpoint: (raw.cognitoEndpoint || `https://cognito-idp.${raw.region}.amazonaws.com/`).replace(/\/?$/, "/"),
    // moto (the local stack) has no RevokeToken; AWS does.
    revokeTokenOnSignOut: raw.revokeTokenOnSignOut !== false,
  });
}
