// Sign-in straight against Cognito's API from the browser (no hosted UI, no SDK):
// InitiateAuth with USER_PASSWORD_AUTH, the NEW_PASSWORD_REQUIRED challenge of admin-created
// users, two-step sign-in with an authenticator app (TOTP: the SOFTWARE_TOKEN_MFA challenge,
// MFA_SETUP where the pool requires it, and turning it on when signed in), REFRESH_TOKEN_AUTH
// before the ID token expires, sign-out. The same calls work against
// AWS (https://cognito-idp.<region>.amazonaws.com/) and the local stack's moto server.
//
// Tokens live in sessionStorage, not localStorage and not a cookie:
// - a reload keeps the session (a purely in-memory session would sign people out on F5),
// - closing the tab ends it, and other tabs and later visitors of a shared machine never see
//   the refresh token, which Cognito honours for 30 days: localStorage would keep it on disk,
// - the API takes the token in the Authorization header, so nothing rides along with
//   cross-site requests the way a cookie would (no CSRF to defend against).
// Script injection could read either storage; the strict Content-Security-Policy (scripts
// from the site's own origin only) is what guards against that.

const STORAGE_KEY = "tally.session.v1";
// Refresh this long before the ID token expires, so no request is sent with a dying token.
const REFRESH_MARGIN_MS = 5 * 60 * 1000;
const RETRY_REFRESH_MS = 30 * 1000;

export class AuthError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** The claims of a JWT, unverified: only for display and routing; the API verifies. */
export function decodeJwt(token) {
  const payload = token.split(".")[1] || "";
  const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function groupsOf(claims) {
  const raw = claims["cognito:groups"];
  if (Array.isArray(raw)) return raw;
  return typeof raw === "string" && raw ? raw.split(/[ ,]+/) : [];
}

// The group every ordinary user is in (tally.tables.USER_GROUP).
const USERS_GROUP = "users";

const TOTP = "SOFTWARE_TOKEN_MFA";

/** The link an authenticator app understands (what a QR code would hold), for `secret`. */
export function otpauthUri(secret, account) {
  const label = encodeURIComponent(`Tally:${account}`);
  return `otpauth://totp/${label}?secret=${encodeURIComponent(secret)}&issuer=Tally`;
}

function friendlyMessage(code, message) {
  switch (code) {
    case "NotAuthorizedException":
      if (/disabled|attempts/i.test(message || "")) return message;
      if (/session/i.test(message || "")) return "This sign-in took too long. Please start again.";
      return "Incorrect user name or password.";
    case "UserNotFoundException":
      return "Incorrect user name or password.";
    case "PasswordResetRequiredException":
      return "Your password has to be reset. Ask an administrator.";
    case "UserNotConfirmedException":
      return "Your account is not confirmed yet. Ask an administrator.";
    case "InvalidPasswordException":
      return message || "That password does not meet the policy.";
    case "CodeMismatchException":
    case "EnableSoftwareTokenMFAException":
      return "That code is not right. Enter the 6-digit code your authenticator app shows now.";
    case "ExpiredCodeException":
      return "That code has already been used. Wait for the next one and enter it.";
    case "TooManyRequestsException":
    case "LimitExceededException":
      return "Too many attempts. Wait a minute and try again.";
    case "NetworkError":
      return "The sign-in service cannot be reached. Check your connection and try again.";
    default:
      return message || "Sign-in failed.";
  }
}

export function createAuth(config, { storage = window.sessionStorage } = {}) {
  let session = load();
  let refreshTimer = null;
  let refreshing = null;
  const endListeners = new Set();

  function load() {
    try {
      const stored = JSON.parse(storage.getItem(STORAGE_KEY) || "null");
      if (stored && stored.idToken && stored.refreshToken && stored.expiresAt) return stored;
    } catch {
      // A damaged entry is the same as none.
    }
    return null;
  }

  function save(next) {
    session = next;
    if (next) storage.setItem(STORAGE_KEY, JSON.stringify(next));
    else storage.removeItem(STORAGE_KEY);
    schedule();
  }

  function schedule() {
    clearTimeout(refreshTimer);
    refreshTimer = null;
    if (!session) return;
    const wait = Math.max(0, session.expiresAt - REFRESH_MARGIN_MS - Date.now());
    refreshTimer = setTimeout(() => {
      refresh().catch(() => {});
    }, wait);
  }

  async function cognito(action, body) {
    let response;
    try {
      response = await fetch(config.cognitoEndpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
        },
        body: JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch {
      throw new AuthError("NetworkError", friendlyMessage("NetworkError"));
    }
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      const code = String(answer.__type || answer.code || "UnknownError")
        .split("#")
        .pop();
      throw new AuthError(code, friendlyMessage(code, answer.message || answer.Message));
    }
    return answer;
  }

  function fromResult(result, previous = null) {
    const claims = decodeJwt(result.IdToken);
    return {
      idToken: result.IdToken,
      accessToken: result.AccessToken,
      // Cognito's refresh answer carries no new refresh token: keep the one we have.
      refreshToken: result.RefreshToken || (previous && previous.refreshToken),
      // From ExpiresIn, not the token's exp: the local clock may be off from Cognito's.
      expiresAt: Date.now() + Number(result.ExpiresIn || 3600) * 1000,
      username: claims["cognito:username"] || claims.email || "",
    };
  }

  function notifyEnd(reason) {
    for (const listener of endListeners) listener(reason);
  }

  function end(reason) {
    if (!session) return;
    save(null);
    notifyEnd(reason);
  }

  async function refresh() {
    if (!session) throw new AuthError("NoSession", "Not signed in.");
    if (refreshing) return refreshing;
    const current = session;
    refreshing = (async () => {
      try {
        const answer = await cognito("InitiateAuth", {
          AuthFlow: "REFRESH_TOKEN_AUTH",
          ClientId: config.clientId,
          AuthParameters: { REFRESH_TOKEN: current.refreshToken },
        });
        save(fromResult(answer.AuthenticationResult, current));
        return session;
      } catch (error) {
        if (error.code === "NetworkError" && current.expiresAt > Date.now()) {
          // Still valid for a while: try again shortly rather than signing out.
          clearTimeout(refreshTimer);
          refreshTimer = setTimeout(() => refresh().catch(() => {}), RETRY_REFRESH_MS);
        } else {
          end("expired");
        }
        throw error;
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  }

  /** Sign in with Cognito's final answer, or describe the step it asks for next. */
  function outcome(answer, username) {
    if (answer.AuthenticationResult) {
      save(fromResult(answer.AuthenticationResult));
      return {};
    }
    const known = ["NEW_PASSWORD_REQUIRED", TOTP, "MFA_SETUP"];
    if (!known.includes(answer.ChallengeName)) {
      throw new AuthError(
        "UnsupportedChallenge",
        `Cognito asked for ${answer.ChallengeName}, which this dashboard does not support yet.`,
      );
    }
    const params = answer.ChallengeParameters || {};
    return {
      challenge: answer.ChallengeName,
      session: answer.Session,
      // With an email alias Cognito wants the real user name back.
      username: params.USER_ID_FOR_SRP || params.USERNAME || username,
    };
  }

  /** The access token for Cognito's own user calls, refreshed like the ID token. */
  async function accessToken() {
    if (!session) throw new AuthError("NoSession", "Not signed in.");
    if (session.expiresAt - Date.now() < REFRESH_MARGIN_MS) await refresh();
    return session.accessToken;
  }

  return {
    get signedIn() {
      return Boolean(session);
    },

    /** Who is signed in, from the ID token's claims. */
    user() {
      if (!session) return null;
      // Identity only: what the caller may do comes from the API (GET /api/me's permissions).
      const claims = decodeJwt(session.idToken);
      return {
        userId: claims.sub,
        username: claims["cognito:username"] || session.username,
        email: claims.email || null,
        // Not a permission: whether to ask GET /api/me before the first screen. Anyone in a
        // group besides the plain users' may be offered more than their own data.
        askFirst: groupsOf(claims).some((group) => group !== USERS_GROUP),
      };
    },

    /**
     * Sign in. Resolves {} when signed in, or {challenge, session, username} when Cognito asks
     * for another step first: NEW_PASSWORD_REQUIRED (completeNewPassword), SOFTWARE_TOKEN_MFA
     * (answerTotp) or MFA_SETUP (startTotpSetup, then finishTotpSetup).
     */
    async signIn(username, password) {
      const answer = await cognito("InitiateAuth", {
        AuthFlow: "USER_PASSWORD_AUTH",
        ClientId: config.clientId,
        AuthParameters: { USERNAME: username, PASSWORD: password },
      });
      return outcome(answer, username);
    },

    /** Answer NEW_PASSWORD_REQUIRED; resolves like signIn (MFA may come next). */
    async completeNewPassword(challenge, newPassword) {
      const answer = await cognito("RespondToAuthChallenge", {
        ChallengeName: "NEW_PASSWORD_REQUIRED",
        ClientId: config.clientId,
        Session: challenge.session,
        ChallengeResponses: { USERNAME: challenge.username, NEW_PASSWORD: newPassword },
      });
      return outcome(answer, challenge.username);
    },

    /** Answer SOFTWARE_TOKEN_MFA with the authenticator app's code; resolves like signIn. */
    async answerTotp(challenge, code) {
      const answer = await cognito("RespondToAuthChallenge", {
        ChallengeName: TOTP,
        ClientId: config.clientId,
        Session: challenge.session,
        ChallengeResponses: { USERNAME: challenge.username, SOFTWARE_TOKEN_MFA_CODE: code },
      });
      return outcome(answer, challenge.username);
    },

    /** MFA_SETUP: a new authenticator secret for the user signing in; resolves its text. */
    async startTotpSetup(challenge) {
      const answer = await cognito("AssociateSoftwareToken", { Session: challenge.session });
      // Each step of the challenge hands over a new session for the next one.
      challenge.session = answer.Session || challenge.session;
      return answer.SecretCode;
    },

    /** MFA_SETUP: check the app's first code, then finish signing in; resolves like signIn. */
    async finishTotpSetup(challenge, code) {
      const verified = await cognito("VerifySoftwareToken", {
        Session: challenge.session,
        UserCode: code,
        FriendlyDeviceName: "Tally",
      });
      challenge.session = verified.Session || challenge.session;
      const answer = await cognito("RespondToAuthChallenge", {
        ChallengeName: "MFA_SETUP",
        ClientId: config.clientId,
        Session: challenge.session,
        ChallengeResponses: { USERNAME: challenge.username },
      });
      return outcome(answer, challenge.username);
    },

    /** Whether the signed-in user has two-step sign-in (TOTP) on. */
    async totpEnabled() {
      const answer = await cognito("GetUser", { AccessToken: await accessToken() });
      return (answer.UserMFASettingList || []).includes(TOTP);
    },

    /** Turning TOTP on, signed in: a new authenticator secret; resolves its text. */
    async beginTotp() {
      const answer = await cognito("AssociateSoftwareToken", { AccessToken: await accessToken() });
      return answer.SecretCode;
    },

    /** Turning TOTP on, signed in: check the app's first code, then ask for it at sign-in. */
    async confirmTotp(code) {
      const token = await accessToken();
      await cognito("VerifySoftwareToken", {
        AccessToken: token,
        UserCode: code,
        FriendlyDeviceName: "Tally",
      });
      await cognito("SetUserMFAPreference", {
        AccessToken: token,
        SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
      });
    },

    /** The ID token for the API, refreshed first when it is about to expire. */
    async idToken() {
      if (!session) throw new AuthError("NoSession", "Not signed in.");
      if (session.expiresAt - Date.now() < REFRESH_MARGIN_MS) await refresh();
      return session.idToken;
    },

    /** After the API said 401: one refresh; if that fails too the session is over. */
    async recover() {
      await refresh();
      return session.idToken;
    },

    /** Resume a stored session (after a reload): refresh now if it has expired. */
    async resume() {
      if (!session) return false;
      if (session.expiresAt - Date.now() < REFRESH_MARGIN_MS) {
        try {
          await refresh();
        } catch {
          return false;
        }
      } else {
        schedule();
      }
      return Boolean(session);
    },

    /** The API refused even a renewed token: the session is over. */
    expire() {
      end("expired");
    },

    signOut() {
      const current = session;
      if (current && config.revokeTokenOnSignOut) {
        // Invalidate the refresh token server-side too; signing out locally must not wait.
        cognito("RevokeToken", { ClientId: config.clientId, Token: current.refreshToken }).catch(() => {});
      }
      end("signed-out");
    },

    /** The session ended (signed out or expired): listener(reason). */
    onEnd(listener) {
      endListeners.add(listener);
      return () => endListeners.delete(listener);
    },
  };
}
