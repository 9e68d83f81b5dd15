package io.github.backupcodes.keycloak.login;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CodeInputTest {

    @Test
    void surroundingWhitespaceIsTrimmed() {
        assertEquals(new CodeInput.Checked(CodeInput.Verdict.OK, "abcd-efgh"), CodeInput.check("  abcd-efgh\t\n"));
    }

    @Test
    void nonBreakingSpacesFromPastedSheetsAreTrimmed() {
        assertEquals("ABCD EFGH", CodeInput.check("\u00A0ABCD EFGH\u00A0").value());
    }

    @Test
    void innerDashesAndSpacesAreLeftForTheBridge() {
        assertEquals("AB CD-EF", CodeInput.check("AB CD-EF").value());
    }

    @Test
    void blankInputIsEmpty() {
        assertEquals(CodeInput.Verdict.EMPTY, CodeInput.check("   ").verdict());
        assertEquals(CodeInput.Verdict.EMPTY, CodeInput.check(null).verdict());
    }

    @Test
    void inputOverSixtyFourCharactersIsTooLong() {
        assertEquals(CodeInput.Verdict.OK, CodeInput.check("A".repeat(64)).verdict());
        assertEquals(CodeInput.Verdict.TOO_LONG, CodeInput.check("A".repeat(65)).verdict());
    }

    @Test
    void codesAreShownInGroupsOfFour() {
        assertEquals("ABCD-EFGH-JKMN-PQRS", CodeInput.format("abcdefghjkmnpqrs"));
        assertEquals("ABCD-EFGH-JKMN-PQRS", CodeInput.format("ABCD-EFGH-JKMN-PQRS"));
        assertEquals("ABCD-EFGH-J", CodeInput.format("ABCD EFGH J"));
    }

    @Test
    void noteRoundTripsTheCodes() {
        List<String> codes = List.of("AAAA-BBBB", "CCCC-DDDD");
        assertEquals(Optional.of(codes), CodeInput.split(CodeInput.join(codes)));
        assertEquals(Optional.empty(), CodeInput.split(null));
    }
}
