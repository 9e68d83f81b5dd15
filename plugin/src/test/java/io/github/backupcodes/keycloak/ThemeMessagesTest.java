package io.github.backupcodes.keycloak;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every message key exists in every language, and every key a template or provider uses is defined. */
class ThemeMessagesTest {

    private static final Path LOGIN = Path.of("..", "keycloak-theme", "login");
    private static final Path SOURCES = Path.of("src", "main", "java");
    private static final Pattern TEMPLATE_KEY = Pattern.compile("msg\\(\"(backupCode[A-Za-z]*)\"");
    /** Message keys in provider code are MSG_* constants (other backupCode* strings are field or attribute names). */
    private static final Pattern JAVA_KEY = Pattern.compile("MSG_[A-Z_]+ = \"(backupCode[A-Za-z]*)\"");

    private static Properties load(String language) throws IOException {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(LOGIN.resolve("messages/messages_" + language + ".properties"), StandardCharsets.UTF_8)) {
            properties.load(reader);
        }
        return properties;
    }

    private static Set<String> matches(Path root, String suffix, Pattern pattern) throws IOException {
        Set<String> keys = new TreeSet<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(f -> f.toString().endsWith(suffix)).toList()) {
                Matcher matcher = pattern.matcher(Files.readString(file));
                while (matcher.find()) {
                    keys.add(matcher.group(1));
                }
            }
        }
        return keys;
    }

    @Test
    void englishAndSpanishHaveTheSameKeys() throws IOException {
        assertEquals(new TreeSet<>(load("en").stringPropertyNames()), new TreeSet<>(load("es").stringPropertyNames()));
    }

    @Test
    void everyKeyATemplateUsesIsDefined() throws IOException {
        Set<String> defined = load("en").stringPropertyNames();
        Set<String> missing = new TreeSet<>(matches(LOGIN, ".ftl", TEMPLATE_KEY));
        missing.removeAll(defined);
        assertTrue(missing.isEmpty(), "undefined message keys in templates: " + missing);
    }

    @Test
    void everyMessageKeyTheProviderUsesIsDefined() throws IOException {
        Set<String> defined = load("en").stringPropertyNames();
        Set<String> used = matches(SOURCES, ".java", JAVA_KEY);
        assertTrue(used.contains("backupCodeLockedRecovery"), "pattern finds nothing: " + used);
        used.removeAll(defined);
        assertTrue(used.isEmpty(), "undefined message keys in provider code: " + used);
    }
}
