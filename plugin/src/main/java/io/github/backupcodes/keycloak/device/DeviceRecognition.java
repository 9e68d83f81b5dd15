package io.github.backupcodes.keycloak.device;

import io.github.backupcodes.keycloak.bridge.BridgeAccess;
import io.github.backupcodes.keycloak.bridge.BridgeSettings;
import io.github.backupcodes.keycloak.bridge.BridgeUnavailableException;
import io.github.backupcodes.keycloak.bridge.DeviceCheck;
import io.github.backupcodes.keycloak.bridge.DeviceRegistration;
import jakarta.ws.rs.core.Cookie;
import jakarta.ws.rs.core.HttpHeaders;
import org.jboss.logging.Logger;
import org.keycloak.models.KeycloakContext;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Keycloak-side glue for remembered devices: read the cookie, ask the bridge, register a new device and set the
 * cookie. Everything here degrades to "not recognised" / "no cookie": a device check may skip a second factor, so a
 * doubtful answer must never count as recognised, and remembering a device must never fail a login.
 */
final class DeviceRecognition {

    private static final Logger LOG = Logger.getLogger(DeviceRecognition.class);
    private static final String CHECK_ATTRIBUTE = "backup-codes.device-check:";

    private DeviceRecognition() {
    }

    /** The cookie's token, when present and well-formed. */
    public static Optional<String> cookieToken(KeycloakSession session) {
        HttpHeaders headers = session.getContext().getRequestHeaders();
        Cookie cookie = headers == null ? null : headers.getCookies().get(DeviceCookie.NAME);
        if (cookie == null || !DeviceCookie.isWellFormed(cookie.getValue())) {
            return Optional.empty();
        }
        return Optional.of(cookie.getValue());
    }

    /** Whether this browser's cookie belongs to this user and is still valid in the bridge; asked once per request. */
    public static boolean recognised(KeycloakSession session, BridgeSettings settings, RealmModel realm, UserModel user) {
        Optional<String> token = cookieToken(session);
        if (token.isEmpty()) {
            return false;
        }
        String key = CHECK_ATTRIBUTE + realm.getId() + ":" + user.getId();
        Object cached = session.getAttribute(key);
        if (cached instanceof Boolean answer) {
            return answer;
        }
        boolean answer;
        try {
            DeviceCheck check = BridgeAccess.of(session, settings, realm).client().checkDevice(
                    realm.getName(), user.getId(), token.get(), clientIp(session), userAgent(session));
            answer = check.recognised();
        } catch (BridgeUnavailableException e) {
            answer = false;
        }
        session.setAttribute(key, answer);
        return answer;
    }

    /** Register this browser with the bridge and set the cookie; any failure just means no cookie. */
    public static void remember(KeycloakSession session, BridgeSettings settings, RealmModel realm, UserModel user) {
        Optional<DeviceRegistration> registration;
        try {
            registration = BridgeAccess.of(session, settings, realm).client()
                    .registerDevice(realm.getName(), user.getId(), clientIp(session), userAgent(session));
        } catch (BridgeUnavailableException e) {
            return;
        }
        if (registration.isEmpty() || !DeviceCookie.isWellFormed(registration.get().token())) {
            return;
        }
        KeycloakContext context = session.getContext();
        try {
            context.getHttpResponse().setCookieIfAbsent(DeviceCookie.create(registration.get().token(),
                    registration.get().maxAgeSeconds(), cookiePath(session, realm), isHttps(session)).toNewCookie());
        } catch (RuntimeException e) {
            LOG.warnf("could not set the remember-device cookie for user %s: %s", user.getId(), e.getClass().getSimpleName());
        }
    }

    /** Drop this browser's cookie (its device was just forgotten). */
    public static void expireCookie(KeycloakSession session, RealmModel realm) {
        if (cookieToken(session).isEmpty()) {
            return;
        }
        try {
            session.getContext().getHttpResponse().setCookieIfAbsent(
                    DeviceCookie.expired(cookiePath(session, realm), isHttps(session)).toNewCookie());
        } catch (RuntimeException e) {
            LOG.debugf("could not expire the remember-device cookie: %s", e.getClass().getSimpleName());
        }
    }

    private static String cookiePath(KeycloakSession session, RealmModel realm) {
        return DeviceCookie.realmPath(session.getContext().getUri().getBaseUri().getRawPath(), segment(realm.getName()));
    }

    private static boolean isHttps(KeycloakSession session) {
        return "https".equalsIgnoreCase(session.getContext().getUri().getRequestUri().getScheme());
    }

    public static String clientIp(KeycloakSession session) {
        return session.getContext().getConnection() == null ? null : session.getContext().getConnection().getRemoteAddr();
    }

    public static String userAgent(KeycloakSession session) {
        HttpHeaders headers = session.getContext().getRequestHeaders();
        return headers == null ? null : headers.getHeaderString("User-Agent");
    }

    private static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
