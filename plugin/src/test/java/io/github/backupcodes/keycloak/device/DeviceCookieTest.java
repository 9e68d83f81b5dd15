package io.github.backupcodes.keycloak.device;

import jakarta.ws.rs.core.NewCookie;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeviceCookieTest {

    private static final String TOKEN = "3f2b9c0d4e5f46a7b8c9d0e1f2a3b4c5.1767225600.q1w2e3r4t5y6u7i8o9p0-_AbCdEfGhIjKlMnOpQrStU";

    @Test
    void cookieIsHttpOnlyLaxAndScopedToTheRealm() {
        DeviceCookie.Attributes cookie = DeviceCookie.create(TOKEN, 7_776_000, "/realms/acme/", false);
        assertEquals("KC_BACKUP_CODES_DEVICE", cookie.name());
        assertEquals(TOKEN, cookie.value());
        assertEquals("/realms/acme/", cookie.path());
        assertEquals(7_776_000, cookie.maxAge());
        assertTrue(cookie.httpOnly());
        assertEquals(NewCookie.SameSite.LAX, cookie.sameSite());
    }

    @Test
    void cookieIsSecureOnHttps() {
        assertTrue(DeviceCookie.create(TOKEN, 60, "/realms/acme/", true).secure());
        assertFalse(DeviceCookie.create(TOKEN, 60, "/realms/acme/", false).secure());
    }

    @Test
    void realmPathEndsWithASlash() {
        assertEquals("/realms/acme/", DeviceCookie.realmPath("/", "acme"));
    }

    @Test
    void realmPathKeepsAContextPath() {
        assertEquals("/auth/realms/acme/", DeviceCookie.realmPath("/auth", "acme"));
        assertEquals("/auth/realms/acme/", DeviceCookie.realmPath("/auth/", "acme"));
    }

    @Test
    void tokenThatNeedsQuotingIsRefused() {
        assertFalse(DeviceCookie.isWellFormed("abc.123.sig; Path=/"));
        assertFalse(DeviceCookie.isWellFormed("abc.notanumber.sig"));
        assertFalse(DeviceCookie.isWellFormed(""));
        assertFalse(DeviceCookie.isWellFormed(null));
        assertThrows(IllegalArgumentException.class, () -> DeviceCookie.create("a b.1.c", 60, "/", false));
    }

    @Test
    void theTokenNeverReachesALogLine() {
        assertFalse(DeviceCookie.create(TOKEN, 60, "/realms/acme/", false).toString().contains("1767225600"));
    }

    @Test
    void bridgeTokenShapeIsAccepted() {
        assertTrue(DeviceCookie.isWellFormed(TOKEN));
    }

    @Test
    void expiredCookieHasZeroMaxAge() {
        DeviceCookie.Attributes cookie = DeviceCookie.expired("/realms/acme/", true);
        assertEquals(0, cookie.maxAge());
        assertEquals("/realms/acme/", cookie.path());
        assertTrue(cookie.secure());
    }
}
