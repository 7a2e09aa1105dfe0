//! CSV cells for every export (`winners.csv`, and later ones): quoted when
//! they hold a separator, a quote or a line break, and neutralised when
//! they start with a character a spreadsheet reads as a formula (`=`, `+`,
//! `-`, `@`, tab, CR), as OWASP advises: such a cell gets a leading `'`,
//! so `=HYPERLINK(...)` shows as text instead of running.

/// One CSV cell, safe to open in a spreadsheet.
pub(crate) fn cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formulas_are_neutralised_and_separators_quoted() {
        assert_eq!(cell("alice"), "alice");
        assert_eq!(
            cell("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@sum"), "'@sum");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("\rx"), "\"'\rx\"");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("a-b"), "a-b");
    }
}
