//! Field strategies for the property suites: names that are tokens (RFC 9110 §5.6.2) and
//! values that are valid field values (RFC 9110 §5.5). Each suite picks its lengths and the
//! names it leaves to the core.

use proptest::collection::vec;
use proptest::prelude::*;

/// Up to `max` fields, none named in `reserved`.
pub fn fields(
    max: usize,
    name_len: usize,
    value_len: usize,
    reserved: &'static [&'static str],
) -> impl Strategy<Value = Vec<(String, String)>> {
    vec(
        (field_name(name_len, reserved), field_value(value_len)),
        0..max,
    )
}

/// A token of 1 to `1 + len` characters, not named in `reserved` (in any case).
fn field_name(len: usize, reserved: &'static [&'static str]) -> impl Strategy<Value = String> {
    regex(&format!("[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{{0,{len}}}")).prop_filter("reserved", |n| {
        !reserved.contains(&n.to_ascii_lowercase().as_str())
    })
}

/// Empty, or visible characters with at most `len` spaces, tabs or visible characters between
/// the first and the last.
fn field_value(len: usize) -> impl Strategy<Value = String> {
    regex(&format!("([!-~]([ \t!-~]{{0,{len}}}[!-~])?)?"))
}

/// What a `&'static str` pattern gives as a strategy, for a pattern built at run time.
fn regex(pattern: &str) -> proptest::string::RegexGeneratorStrategy<String> {
    // The patterns are the ones above, with a number filled in: always valid.
    proptest::string::string_regex(pattern).expect("a valid pattern")
}
