package io.github.backupcodes.keycloak.contract;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.MessageFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every message key exists in every language with the same placeholders, and every key a template or provider uses
 * is defined. Which languages must exist is tests/test_theme_locales.py's concern (Keycloak's own list).
 */
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

    /** Every translation next to messages_en.properties, by its file-name suffix (de, pt_BR, zh_Hans...). */
    static List<String> translations() throws IOException {
        List<String> languages = new ArrayList<>();
        try (Stream<Path> files = Files.list(LOGIN.resolve("messages"))) {
            for (Path file : files.sorted().toList()) {
                String name = file.getFileName().toString();
                if (name.startsWith("messages_") && name.endsWith(".properties") && !name.equals("messages_en.properties")) {
                    languages.add(name.substring("messages_".length(), name.length() - ".properties".length()));
                }
            }
        }
        return languages;
    }

    /**
     * What a message shows once Keycloak formats it (Keycloak always runs java.text.MessageFormat, even without
     * arguments): the arguments become markers, so a stray apostrophe that quotes a placeholder away shows up.
     */
    private static Set<String> markersAfterFormatting(String pattern, String language) {
        Object[] arguments = {"<arg0>", "<arg1>", "<arg2>"};
        String formatted = new MessageFormat(pattern, Locale.forLanguageTag(language.replace('_', '-'))).format(arguments);
        Set<String> markers = new TreeSet<>();
        Matcher matcher = Pattern.compile("<arg\\d>|[{}]").matcher(formatted);
        while (matcher.find()) {
            markers.add(matcher.group());
        }
        return markers;
    }

    @ParameterizedTest
    @MethodSource("translations")
    void everyLanguageHasExactlyTheEnglishKeys(String language) throws IOException {
        assertEquals(new TreeSet<>(load("en").stringPropertyNames()), new TreeSet<>(load(language).stringPropertyNames()));
    }

    @ParameterizedTest
    @MethodSource("translations")
    void everyMessageShowsTheSamePlaceholdersAsEnglish(String language) throws IOException {
        Properties english = load("en");
        Properties translated = load(language);
        for (String key : english.stringPropertyNames()) {
            String value = translated.getProperty(key, "");
            assertEquals(markersAfterFormatting(english.getProperty(key), "en"), markersAfterFormatting(value, language),
                    language + " " + key + "=" + value);
        }
    }

    @ParameterizedTest
    @MethodSource("translations")
    void noMessageIsEmptyOrItsOwnKey(String language) throws IOException {
        Properties translated = load(language);
        for (String key : translated.stringPropertyNames()) {
            String value = translated.getProperty(key).strip();
            assertNotEquals("", value, language + " " + key);
            assertNotEquals(key, value, language + " " + key);
        }
    }

    /** MessageFormat swallows a lone ' (and quotes what follows): write ’ as messages_en.properties says. */
    @ParameterizedTest
    @MethodSource("translations")
    void noMessageHasALoneApostrophe(String language) throws IOException {
        Properties translated = load(language);
        for (String key : translated.stringPropertyNames()) {
            String value = translated.getProperty(key);
            assertFalse(value.replace("''", "").contains("'"), language + " " + key + "=" + value);
        }
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
