package io.github.backupcodes.keycloak.device;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RememberDeviceTest {

    @Test
    void absentAttributeMeansAlwaysAsk() {
        assertEquals(0, RememberDevice.days(null));
        assertEquals(0, RememberDevice.days(""));
    }

    @Test
    void daysAreRead() {
        assertEquals(30, RememberDevice.days(" 30 "));
    }

    @Test
    void negativeOrUnreadableMeansAlwaysAsk() {
        assertEquals(0, RememberDevice.days("-5"));
        assertEquals(0, RememberDevice.days("thirty"));
    }

    @Test
    void daysAreCappedLikeTheBridgeTtl() {
        assertEquals(400, RememberDevice.days("100000"));
    }
}
