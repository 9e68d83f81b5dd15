package io.github.backupcodes.keycloak.device;

import io.github.backupcodes.keycloak.contract.Contract;
import jakarta.ws.rs.core.NewCookie;

import java.util.regex.Pattern;

/**
 * The remember-device cookie: the bridge's signed token, scoped to the realm's path, HttpOnly, SameSite=Lax (it must
 * come along when an application redirects the browser to the login page), Secure whenever the request is HTTPS.
 */
final class DeviceCookie {

    static final String NAME = Contract.DEVICE_COOKIE;

    /** {@code <device_id>.<expires_epoch>.<base64url sig>}: nothing that needs quoting in a cookie. */
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{1,128}\\.[0-9]{1,12}\\.[A-Za-z0-9_=-]{1,128}");

    private DeviceCookie() {
    }

    public static boolean isWellFormed(String token) {
        return token != null && TOKEN.matcher(token).matches();
    }

    /** {@code /} + {@code realms/acme/} → {@code /realms/acme/}; a context path such as {@code /auth/} is kept. */
    public static String realmPath(String baseRawPath, String encodedRealmName) {
        String base = baseRawPath == null || baseRawPath.isEmpty() ? "/" : baseRawPath;
        if (!base.endsWith("/")) {
            base = base + "/";
        }
        return base + "realms/" + encodedRealmName + "/";
    }

    /** What the cookie says, kept apart from JAX-RS (whose cookie classes need a runtime) so it is unit-tested. */
    public record Attributes(String name, String value, String path, int maxAge, boolean httpOnly, boolean secure,
                             NewCookie.SameSite sameSite) {

        @Override
        public String toString() {
            return "DeviceCookie[path=" + path + ", maxAge=" + maxAge + ", secure=" + secure + "]";
        }

        public NewCookie toNewCookie() {
            return new NewCookie.Builder(name)
                    .value(value)
                    .path(path)
                    .maxAge(maxAge)
                    .httpOnly(httpOnly)
                    .secure(secure)
                    .sameSite(sameSite)
                    .build();
        }
    }

    public static Attributes create(String token, int maxAgeSeconds, String path, boolean secure) {
        if (!isWellFormed(token)) {
            throw new IllegalArgumentException("device token is not cookie-safe");
        }
        return new Attributes(NAME, token, path, Math.max(maxAgeSeconds, 0), true, secure, NewCookie.SameSite.LAX);
    }

    /** The same cookie with Max-Age 0: the browser drops it (after "forget all devices"). */
    public static Attributes expired(String path, boolean secure) {
        return new Attributes(NAME, "", path, 0, true, secure, NewCookie.SameSite.LAX);
    }
}
