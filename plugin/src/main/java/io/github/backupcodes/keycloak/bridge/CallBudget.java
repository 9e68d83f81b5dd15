package io.github.backupcodes.keycloak.bridge;

import java.util.function.LongSupplier;

/**
 * One deadline for every bridge call made while Keycloak answers one HTTP request.
 *
 * <p>Why one deadline and not per-call timeouts: a single login step may ask the bridge several times (the
 * second-factor condition's status, a device check, the verify, the status again for the page), and each call with
 * its own connect and read timeout adds up to many seconds before a person sees "temporarily unavailable" when the
 * bridge hangs. Every call instead gets what is left of this budget as its connect, pool and read limit (and a hard
 * abort at the deadline, see {@link BridgeClient}); once it is spent, further calls fail at once without touching
 * the network. So a hung bridge holds a Keycloak worker thread for at most the budget, however many calls a step makes
 * and however the HTTP client retries.
 */
public final class CallBudget {

    /** Default total per Keycloak request: a person sees the "unavailable" page well within 5 s of submitting. */
    public static final int DEFAULT_MILLIS = 3000;
    /** Below this even a healthy bridge on the same host cannot answer a verify (one Argon2 hash). */
    public static final int MIN_MILLIS = 100;
    /** Above this a hung bridge would hold Keycloak's worker threads (and the person) for too long. */
    public static final int MAX_MILLIS = 15_000;

    private final LongSupplier nanoClock;
    private final long deadlineNanos;
    private final int totalMillis;

    private CallBudget(int totalMillis, LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        this.totalMillis = totalMillis;
        this.deadlineNanos = nanoClock.getAsLong() + totalMillis * 1_000_000L;
    }

    /** A budget of {@code totalMillis} starting now. */
    public static CallBudget startingNow(int totalMillis) {
        return startingNow(totalMillis, System::nanoTime);
    }

    /** As {@link #startingNow(int)} on a given monotonic clock (nanoseconds), so the arithmetic is tested. */
    public static CallBudget startingNow(int totalMillis, LongSupplier nanoClock) {
        if (totalMillis < MIN_MILLIS || totalMillis > MAX_MILLIS) {
            throw new IllegalArgumentException(rangeMessage("budget"));
        }
        return new CallBudget(totalMillis, nanoClock);
    }

    public int totalMillis() {
        return totalMillis;
    }

    /** What is left, in whole milliseconds (rounded up, so a call never gets 0 = "no timeout"); 0 when spent. */
    public int remainingMillis() {
        long leftNanos = deadlineNanos - nanoClock.getAsLong();
        if (leftNanos <= 0) {
            return 0;
        }
        return (int) Math.min(totalMillis, (leftNanos + 999_999L) / 1_000_000L);
    }

    public boolean spent() {
        return remainingMillis() == 0;
    }

    /**
     * The value of a budget setting in milliseconds.
     *
     * @throws IllegalArgumentException naming {@code field} and the allowed range, for anything but a whole number
     *                                  from {@link #MIN_MILLIS} to {@link #MAX_MILLIS}
     */
    public static int parseMillis(String field, String raw) {
        try {
            int value = Integer.parseInt(raw == null ? "" : raw.trim());
            if (value >= MIN_MILLIS && value <= MAX_MILLIS) {
                return value;
            }
        } catch (NumberFormatException e) {
            // falls through to the one message below
        }
        throw new IllegalArgumentException(rangeMessage(field));
    }

    public static String rangeMessage(String field) {
        return field + " must be a whole number of milliseconds from " + MIN_MILLIS + " to " + MAX_MILLIS;
    }

    @Override
    public String toString() {
        return "CallBudget[" + totalMillis + " ms, " + remainingMillis() + " ms left]";
    }
}
